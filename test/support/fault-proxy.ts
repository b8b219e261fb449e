import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback reverse proxy in front of a fake server that breaks chosen requests the way a flaky network does.
 * Requests are forwarded with their Host header, so a fake that builds its links from Host keeps clients on the proxy.
 *
 * - `lose`: forward the request, read the whole answer, then drop the client's connection (the server acted; the
 *   client never learns it)
 * - `hang`: never answer and never forward; the connection stays open until the client gives up or the proxy closes
 * - `stall`: forward the request, then never answer (the server acted; the client waits)
 * - `garbage`: answer 200 with an HTML error page instead of forwarding
 * - `drop`: close the connection without forwarding (the server never sees the request)
 */
export type Fault = 'lose' | 'hang' | 'stall' | 'garbage' | 'drop';

export interface ProxiedRequest {
  method: string;
  url: string;
}

export interface FaultRule {
  match: (req: ProxiedRequest) => boolean;
  /** undefined: forward normally (use with `after`). */
  fault?: Fault;
  /** How many matching requests the rule applies to; unlimited when absent. */
  times?: number;
  /** Called once the matching request was handled: for a forwarded one, when the server answered, before the client gets the answer. */
  after?: () => void;
}

export interface FaultProxy {
  url: string;
  rules: FaultRule[];
  /** Every request the proxy received, with the fault applied to it. */
  seen: Array<ProxiedRequest & { fault?: Fault }>;
  /** Stops listening: new connections are refused (ECONNREFUSED) until `accept()`. */
  refuse(): void;
  accept(): Promise<void>;
  close(): Promise<void>;
}

const GARBAGE = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: FaultRule[] = [];
  const seen: FaultProxy['seen'] = [];
  const sockets = new Set<Socket>();

  const ruleFor = (req: ProxiedRequest): FaultRule | undefined => {
    const rule = rules.find((r) => (r.times === undefined || r.times > 0) && r.match(req));
    if (rule?.times !== undefined) rule.times--;
    return rule;
  };

  const server = http.createServer((req, res) => {
    const request = { method: req.method ?? 'GET', url: req.url ?? '/' };
    const rule = ruleFor(request);
    seen.push({ ...request, ...(rule?.fault ? { fault: rule.fault } : {}) });
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      switch (rule?.fault) {
        case 'hang':
          rule.after?.();
          return;
        case 'drop':
          rule.after?.();
          req.socket.destroy();
          return;
        case 'garbage':
          rule.after?.();
          res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(GARBAGE) });
          res.end(GARBAGE);
          return;
        default:
          forward(request, req.headers, Buffer.concat(body), res, rule);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const forward = (request: ProxiedRequest, headers: http.IncomingHttpHeaders, body: Buffer, res: http.ServerResponse, rule?: FaultRule): void => {
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, agent: false }, (answer) => {
      answer.on('error', () => res.destroy());
      if (rule?.fault === 'lose' || rule?.fault === 'stall') {
        // The server has acted on the request; its answer is read to the end, then dropped or held back.
        answer.resume();
        answer.on('end', () => {
          rule.after?.();
          if (rule.fault === 'lose') res.socket?.destroy();
        });
        return;
      }
      rule?.after?.();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    out.end(body);
  };

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
    rules,
    seen,
    refuse: () => {
      // Closing the listener refuses new connections at once; open ones (a hanging request) stay.
      server.close();
    },
    accept: () => (server.listening ? Promise.resolve() : listen()),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}
