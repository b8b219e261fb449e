/** A fault-injecting loopback proxy in front of a registry: fails or drops chosen requests, then forwards. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to a request instead of forwarding it. */
export type FaultAction =
  /** Answer with this HTTP status and a plain-text body, as a load balancer in front of a registry does. */
  | { status: number; body?: string }
  /** Close the connection without an answer; the registry never sees the request. */
  | { drop: true }
  /** Forward the request to the registry, then close the connection instead of relaying its answer. */
  | { loseAnswer: true }
  /** Forward the request with another path, e.g. a mount's query removed, as a registry that does not mount would see it. */
  | { rewritePath: (path: string) => string }
  /** Never answer: the request hangs until the client gives up or the proxy stops. */
  | { hang: true }
  /**
   * Hold each matching request until all `times` of them wait at once, then forward them together: proof that
   * clients send them concurrently. After timeoutMs (default 10 s) the held ones are forwarded anyway.
   */
  | { gather: true; timeoutMs?: number };

export interface Fault {
  /** How many matching requests get the fault; later ones are forwarded. */
  times: number;
  action: FaultAction;
  /** Which requests count (default: every request). */
  match?: (request: SeenRequest) => boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** The status the client got; undefined when the connection was dropped. */
  status?: number;
  /** True when the answer came from a fault, not the registry. */
  injected: boolean;
}

/** A loopback HTTP proxy in front of a real registry that injects faults into the first matching requests. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`, the way a destination names it. */
  host: string;
  /** Every request so far, in arrival order. */
  requests: SeenRequest[];
  /** The most requests a gather fault held at once. */
  maxHeld(): number;
  stop(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1 forwarding to `target` (`127.0.0.1:PORT` of a real registry). The Host header is
 * kept, so the registry's upload Locations point back at the proxy and every request of a push passes through it.
 */
export async function startFaultProxy(target: string, faults: Fault[]): Promise<FaultProxy> {
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.split(':');
  const remaining = faults.map((fault) => fault.times);
  const requests: SeenRequest[] = [];
  const agent = new http.Agent({ keepAlive: false });
  const held = faults.map((): Array<() => void> => []);
  let maxHeld = 0;
  const release = (i: number) => held[i]!.splice(0).forEach((forward) => forward());
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest, loseAnswer = false, path = req.url): void => {
    const upstream = http.request(
      { host: targetHost, port: Number(targetPort), method: req.method, path, headers: req.headers, agent },
      (answer) => {
        seen.status = answer.statusCode;
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', injected: false };
    requests.push(seen);
    const index = faults.findIndex((fault, i) => (remaining[i] ?? 0) > 0 && (fault.match?.(seen) ?? true));
    if (index >= 0) {
      remaining[index] = (remaining[index] ?? 0) - 1;
      seen.injected = true;
      const action = faults[index]!.action;
      if ('drop' in action) {
        req.socket.destroy();
        return;
      }
      if ('hang' in action) {
        req.resume();
        return;
      }
      if ('loseAnswer' in action) {
        forward(req, res, seen, true);
        return;
      }
      if ('rewritePath' in action) {
        forward(req, res, seen, false, action.rewritePath(seen.path));
        return;
      }
      if ('gather' in action) {
        const waiting = held[index]!;
        waiting.push(() => forward(req, res, seen));
        maxHeld = Math.max(maxHeld, waiting.length);
        if (waiting.length === faults[index]!.times) release(index);
        else if (waiting.length === 1) setTimeout(() => release(index), action.timeoutMs ?? 10_000).unref();
        return;
      }
      req.resume();
      seen.status = action.status;
      res.writeHead(action.status, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(action.body ?? `injected fault: HTTP ${action.status}\n`);
      return;
    }
    forward(req, res, seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    maxHeld: () => maxHeld,
    stop: async () => {
      faults.forEach((_, i) => release(i));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
