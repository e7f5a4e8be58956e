// Prometheus metrics on a registry of this app's own (several apps can live in one test process),
// and the health endpoints: /healthz (alive) and /readyz (database, Redis, RPC reachable).
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'kysely';
import type { AppContext } from '../context.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; rateLimitFallbacks: Counter };
  }
}

export function createMetrics(): {
  registry: Registry;
  rateLimitFallbacks: Counter;
  requests: Counter;
  duration: Histogram;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'starling_api_' });
  return {
    registry,
    rateLimitFallbacks: new Counter({
      name: 'starling_api_rate_limit_fallbacks_total',
      help: 'Rate-limit checks counted in process memory because Redis was unavailable',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'starling_api_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'starling_api_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

async function probe(
  check: () => Promise<unknown>,
  timeoutMs = 2000,
): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export default fp(
  async (app, opts: { ctx: AppContext; metrics: ReturnType<typeof createMetrics> }) => {
    const { ctx, metrics } = opts;
    app.decorate('metrics', { registry: metrics.registry, rateLimitFallbacks: metrics.rateLimitFallbacks });

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });

    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const checks: Record<string, { ok: boolean; error?: string; skipped?: boolean }> = {
        database: await probe(() => sql`SELECT 1`.execute(ctx.db)),
        redis: ctx.redis ? await probe(() => ctx.redis!.ping()) : { ok: true, skipped: true },
        rpc: ctx.config.STELLAR_RPC_URL
          ? await probe(async () => {
              const res = await fetch(ctx.config.STELLAR_RPC_URL, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }),
                signal: AbortSignal.timeout(2000),
              });
              const body = (await res.json()) as { result?: { status?: string } };
              if (body.result?.status !== 'healthy')
                throw new Error(`rpc status ${body.result?.status ?? res.status}`);
            })
          : { ok: true, skipped: true },
      };
      const ready = Object.values(checks).every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
    });

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  },
  { name: 'observability' },
);
