// The whole system for browser tests: a private Postgres and Redis, migrations, the real API
// (node api/src/server.ts), optionally the local chain with the indexer, and the BUILT site
// (node web/server.js). Everything listens on free loopback ports and stops with stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Keypair } from '@stellar/stellar-sdk';
import { runMigrations } from '@starling/migrations';
import { freePort, startPostgres, startRedis, withDatabase, type RunningService } from '../../ops/dev/services.ts';

export const root = resolve(import.meta.dirname, '../..');

export interface Stack {
  apiUrl: string;
  webUrl: string;
  rpcUrl: string | null;
  databaseUrl: string;
  db: pg.Pool;
  logs: string[];
  stop(): Promise<void>;
}

async function waitForHttp(url: string, child: ChildProcess, what: string, logs: string[], ms = 40_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${logs.slice(-30).join('\n')}`);
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not answer ${url}:\n${logs.slice(-30).join('\n')}`);
}

function run(cmd: string, args: string[], env: Record<string, string>, logs: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      logs.push(`[${name}] ${line}`);
      if (logs.length > 400) logs.shift();
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return child;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

export interface StackOptions {
  /** Extra environment for the API. */
  apiEnv?: Record<string, string>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'starling-web-e2e-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory inside
  const services: RunningService[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    await db.end().catch(() => undefined);
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  let db: pg.Pool = new pg.Pool();
  try {
    const postgres = await startPostgres({ dataDir: join(dir, 'pg'), ephemeral: true });
    services.push(postgres);
    const redis = await startRedis({ dir: join(dir, 'redis') });
    services.push(redis);
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE starling');
    await admin.end();
    const databaseUrl = withDatabase(postgres.url, 'starling');
    db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    await runMigrations(db);

    const [apiPort, webPort] = [await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const webUrl = `http://127.0.0.1:${webPort}`;
    const rpcUrl = process.env.STARLING_E2E_RPC_URL ?? null;
    const api = run(process.execPath, ['api/src/server.ts'], {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      WALLET_KEYS: `1:${randomBytes(32).toString('base64')}`,
      SEP10_SIGNING_SECRET: Keypair.random().secret(),
      SEP10_HOME_DOMAIN: '127.0.0.1',
      SEP10_WEB_AUTH_DOMAIN: '127.0.0.1',
      PUBLIC_WEB_URL: webUrl,
      CORS_ORIGINS: webUrl,
      RATE_LIMIT_AUTH_MAX: '1000',
      ...(rpcUrl ? { STELLAR_RPC_URL: rpcUrl } : {}),
      ...opts.apiEnv,
    }, logs, 'api');
    children.push(api);
    await waitForHttp(`${apiUrl}/healthz`, api, 'api', logs);

    const server = join(root, 'web/server.js');
    if (!existsSync(join(root, 'web/build/handler.js'))) throw new Error('web/build is missing: run `pnpm --filter @starling/web build` first');
    const web = run(process.execPath, [server], {
      NODE_ENV: 'production',
      PORT: String(webPort),
      HOST: '127.0.0.1',
      ORIGIN: webUrl,
      API_URL: apiUrl,
      COOKIE_SECURE: 'false',
      PUBLIC_STELLAR_RPC_URL: rpcUrl ?? 'http://127.0.0.1:9',
    }, logs, 'web');
    children.push(web);
    await waitForHttp(`${webUrl}/verify`, web, 'web', logs);
    return { apiUrl, webUrl, rpcUrl, databaseUrl, db, logs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
