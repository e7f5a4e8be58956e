// /healthz (alive), /readyz (leader, database and RPC reachable, caught up: else 503),
// /status (JSON), /metrics (Prometheus).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Context } from '../context.ts';
import { errorMessage } from '../errors.ts';
import { countIntentsByStatus, readState } from '../store/state.repository.ts';

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export interface StatusSource {
  role(): 'leader' | 'standby' | 'stopped';
}

export async function buildStatus(ctx: Context, source: StatusSource): Promise<Record<string, unknown>> {
  const state = await readState(ctx.db);
  const intents = await countIntentsByStatus(ctx.db);
  return {
    instance: ctx.config.instanceId,
    role: source.role(),
    network: ctx.config.STELLAR_NETWORK,
    contracts: ctx.config.contracts,
    channels: ctx.config.channels.map((k) => k.publicKey()),
    state: state ?? null,
    intents,
  };
}

export async function startHttp(
  ctx: Context,
  source: StatusSource,
  host: string,
  port: number,
): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const send = (code: number, body: unknown, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const url = (req.url ?? '/').split('?')[0];
    void (async () => {
      try {
        if (url === '/healthz') return send(200, { status: 'ok', role: source.role() });
        if (url === '/metrics')
          return send(200, await ctx.metrics.registry.metrics(), ctx.metrics.registry.contentType);
        if (url === '/status') return send(200, await buildStatus(ctx, source));
        if (url === '/readyz') {
          const problems: string[] = [];
          await sql`SELECT 1`
            .execute(ctx.db)
            .catch((e: unknown) => problems.push(`database: ${errorMessage(e)}`));
          await ctx.rpc.getLatestLedger().catch((e: unknown) => problems.push(`rpc: ${errorMessage(e)}`));
          if (source.role() !== 'leader') problems.push(`role: ${source.role()}`);
          const state = await readState(ctx.db).catch(() => undefined);
          if (!state?.caught_up)
            problems.push(
              `ingest: ${state?.status ?? 'unknown'}${state?.lag_ledgers != null ? ` (${state.lag_ledgers} ledgers behind)` : ''}`,
            );
          return send(problems.length ? 503 : 200, { ready: problems.length === 0, problems });
        }
        send(404, { error: 'not found' });
      } catch (e) {
        send(500, { error: errorMessage(e) });
      }
    })();
  });
  await new Promise<void>((res) => server.listen(port, host, res));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
