// A fault-injecting proxy in front of the local chain: HTTP 500/429, malformed JSON, hangs
// (client timeouts), slow responses, connection resets, and responses lost after the request
// reached the chain. The upstream can be swapped (a reset network behind the same URL).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  'http500' | 'http429' | 'malformed' | 'hang' | 'slow' | 'reset' | 'lost_response' | 'truncated';

export interface RpcProxy {
  url: string;
  upstream: string;
  /** Probability that a request gets one of `faults` (uniformly). */
  setFaults(rate: number, faults: Fault[]): void;
  counts: Record<string, number>;
  close(): Promise<void>;
}

export async function startRpcProxy(upstream: string): Promise<RpcProxy> {
  let rate = 0;
  let faults: Fault[] = [];
  const counts: Record<string, number> = {};
  const state = { upstream };
  const sockets = new Set<import('node:net').Socket>();

  async function forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; body: Buffer; type: string }> {
    const res = await fetch(state.upstream + (req.url ?? '/'), {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    });
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      type: res.headers.get('content-type') ?? 'application/json',
    };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const fault =
          Math.random() < rate && faults.length ? faults[Math.floor(Math.random() * faults.length)]! : null;
        if (fault) counts[fault] = (counts[fault] ?? 0) + 1;
        try {
          switch (fault) {
            case 'http500':
              res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
              return;
            case 'http429':
              res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end('slow down');
              return;
            case 'malformed':
              res
                .writeHead(200, { 'content-type': 'application/json' })
                .end('{"jsonrpc":"2.0","result":{"events":[');
              return;
            case 'hang':
              return; // never answers; the client's timeout fires
            case 'reset':
              req.socket.destroy();
              return;
            case 'slow':
              await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
              break;
            case 'lost_response':
              await forward(req, body); // the chain got it …
              req.socket.destroy(); // … the client never hears back
              return;
            case 'truncated': {
              const r = await forward(req, body);
              res
                .writeHead(200, { 'content-type': r.type })
                .end(r.body.subarray(0, Math.floor(r.body.length / 2)));
              return;
            }
            default:
              break;
          }
          const r = await forward(req, body);
          res.writeHead(r.status, { 'content-type': r.type }).end(r.body);
        } catch {
          req.socket.destroy();
        }
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get upstream() {
      return state.upstream;
    },
    set upstream(u: string) {
      state.upstream = u;
    },
    setFaults(r, f) {
      rate = r;
      faults = f;
    },
    counts,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
