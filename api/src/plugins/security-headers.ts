// Security headers from helmet, computed once: helmet's values are the same for every response of
// this API (no nonces), and running its middleware per request cost ~15% of an empty route's CPU.
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function computeHelmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const removed = new Set<string>();
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      removed.add(name.toLowerCase());
    },
  } as unknown as ServerResponse;
  let failure: unknown;
  helmet(options)({} as IncomingMessage, res, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  for (const name of removed) delete headers[name];
  return headers;
}

export default fp(
  async (app, opts: { helmet: HelmetOptions }) => {
    const headers = computeHelmetHeaders(opts.helmet);
    app.addHook('onRequest', async (_request, reply) => {
      reply.headers(headers);
      // helmet removes X-Powered-By; Fastify never sets it.
    });
  },
  { name: 'security-headers' },
);
