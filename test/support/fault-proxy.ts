import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback reverse proxy in front of a server (the fake ADO, a real registry) that breaks chosen requests the way a
 * flaky network or a load balancer does. Requests are forwarded with their Host header, so a server that builds its
 * links from Host (the fake's URLs, a registry's upload Locations) keeps clients on the proxy.
 *
 * - `lose`: forward the request, read the whole answer, then drop the client's connection (the server acted; the
 *   client never learns it)
 * - `hang`: never answer and never forward; the connection stays open until the client gives up or the proxy closes
 * - `stall`: forward the request, then never answer (the server acted; the client waits)
 * - `garbage`: answer 200 with an HTML error page instead of forwarding
 * - `drop`: close the connection without forwarding (the server never sees the request)
 * - `gather`: hold each matching request until all `times` of them wait at once, then forward them together (proof
 *   that clients send them concurrently); after 10 s the held ones are forwarded anyway
 * - `{status, body}`: answer with this status and a plain-text body instead of forwarding
 * - `{rewrite}`: forward with another path (a mount's query removed, as a registry that does not mount would see it)
 */
export type Fault = 'lose' | 'hang' | 'stall' | 'garbage' | 'drop' | 'gather' | { status: number; body?: string } | { rewrite: (url: string) => string };

export interface ProxiedRequest {
  method: string;
  url: string;
  /** The fault applied to it, if any. */
  fault?: Fault;
  /** The status the server (or an injected answer) gave; undefined while none came or when the connection was dropped. */
  status?: number;
}

export interface FaultRule {
  /** Which requests count; every request when absent. */
  match?: (req: ProxiedRequest) => boolean;
  /** undefined: forward normally (use with `after`). */
  fault?: Fault;
  /** How many matching requests the rule applies to; unlimited when absent. */
  times?: number;
  /** Called once the matching request was handled: for a forwarded one, when the server answered, before the client gets the answer. */
  after?: () => void;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the way an image destination names it. */
  host: string;
  /** Looked through in order for each request; more may be pushed while the proxy runs. */
  rules: FaultRule[];
  /** Every request the proxy received, in arrival order. */
  seen: ProxiedRequest[];
  /** The most requests a `gather` rule held at once. */
  maxHeld(): number;
  /** Stops listening: new connections are refused (ECONNREFUSED) until `accept()`. */
  refuse(): void;
  accept(): Promise<void>;
  close(): Promise<void>;
}

const GARBAGE = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n';
const GATHER_TIMEOUT_MS = 10_000;

/** Starts the proxy on 127.0.0.1 in front of `target`: a URL, or `HOST:PORT` as a registry's host is written. */
export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const upstream = new URL(target.includes('://') ? target : `http://${target}`);
  const seen: ProxiedRequest[] = [];
  const used = new Map<FaultRule, number>();
  const held = new Map<FaultRule, Array<() => void>>();
  const timers = new Set<NodeJS.Timeout>();
  let maxHeld = 0;
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: false });

  const ruleFor = (req: ProxiedRequest): FaultRule | undefined => {
    const rule = rules.find((r) => (r.times === undefined || (used.get(r) ?? 0) < r.times) && (r.match?.(req) ?? true));
    if (rule) used.set(rule, (used.get(rule) ?? 0) + 1);
    return rule;
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, request: ProxiedRequest, rule?: FaultRule): void => {
    const path = rule?.fault !== undefined && typeof rule.fault === 'object' && 'rewrite' in rule.fault ? rule.fault.rewrite(request.url) : request.url;
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path, headers: req.headers, agent }, (answer) => {
      request.status = answer.statusCode;
      answer.on('error', () => res.destroy());
      if (rule?.fault === 'lose' || rule?.fault === 'stall') {
        // The server has acted on the request; its answer is read to the end, then dropped or held back.
        answer.resume();
        answer.on('end', () => {
          rule.after?.();
          if (rule.fault === 'lose') req.socket.destroy();
        });
        return;
      }
      rule?.after?.();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const release = (rule: FaultRule): void => held.get(rule)?.splice(0).forEach((go) => go());
  const gather = (rule: FaultRule, go: () => void): void => {
    const waiting = held.get(rule) ?? [];
    held.set(rule, waiting);
    waiting.push(go);
    maxHeld = Math.max(maxHeld, waiting.length);
    if (waiting.length === rule.times) release(rule);
    else if (waiting.length === 1) timers.add(setTimeout(() => release(rule), GATHER_TIMEOUT_MS).unref());
  };

  const server = http.createServer((req, res) => {
    const request: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/' };
    seen.push(request);
    const rule = ruleFor(request);
    const fault = rule?.fault;
    if (fault !== undefined) request.fault = fault;
    if (!rule || fault === undefined || fault === 'lose' || fault === 'stall' || (typeof fault === 'object' && 'rewrite' in fault)) return forward(req, res, request, rule);
    if (fault === 'gather') return gather(rule, () => forward(req, res, request, rule));
    // The other faults act once the client has sent its whole request.
    req.resume();
    req.on('end', () => {
      rule.after?.();
      if (fault === 'hang') return;
      if (fault === 'drop') return req.socket.destroy();
      const [status, body, type] = fault === 'garbage' ? [200, GARBAGE, 'text/html'] : [fault.status, fault.body ?? `injected fault: HTTP ${fault.status}\n`, 'text/plain'];
      request.status = status;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    rules,
    seen,
    maxHeld: () => maxHeld,
    refuse: () => {
      // Closing the listener refuses new connections at once; open ones (a hanging request) stay.
      server.close();
    },
    accept: () => (server.listening ? Promise.resolve() : listen()),
    close: () =>
      new Promise<void>((resolve) => {
        timers.forEach((timer) => clearTimeout(timer));
        held.clear();
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}
