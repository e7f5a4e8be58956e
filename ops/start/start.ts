// The README's first command: brings the whole system up on one machine with embedded defaults.
// A private Postgres when DATABASE_URL is unset (data kept in .starling/, or /var/lib/starling/
// when the postgres user cannot reach the checkout), no Redis when REDIS_URL is
// unset, migrations, the API, demo data; prints every URL and the demo credentials. Ctrl-C stops all.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair } from '@stellar/stellar-sdk';
import pg from 'pg';
import { runMigrations } from '@starling/migrations';
import { startPostgres, withDatabase, type RunningService } from '../dev/services.ts';
import { DEMO_ACCOUNTS, seedDemo } from './seed.ts';
import { indexerEnv, startLocalChain } from './chain.ts';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const stateDir = join(root, '.starling');
mkdirSync(stateDir, { recursive: true });
const children: ChildProcess[] = [];
const services: RunningService[] = [];

function log(line: string): void {
  console.log(`starling: ${line}`);
}

/**
 * As root, Postgres runs as the `postgres` user and must reach its data directory. A checkout
 * under a private home (/root is 0700) cannot be reached, so its data then lives in
 * /var/lib/starling/<hash of the checkout path>/, kept across restarts like .starling/.
 */
function postgresDataDir(): string {
  const inCheckout = join(stateDir, 'postgres');
  if (process.getuid?.() !== 0) return inCheckout;
  if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', stateDir]).status === 0) return inCheckout;
  const dir = join('/var/lib/starling', createHash('sha256').update(root).digest('hex').slice(0, 12));
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return join(dir, 'postgres');
}

/** Development secrets, generated once and kept so restarts keep sessions and wallets readable. */
function devSecrets(): Record<string, string> {
  const file = join(stateDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    WALLET_KEYS: `1:${randomBytes(32).toString('base64')}`,
    SEP10_SIGNING_SECRET: Keypair.random().secret(),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return withDatabase(adminUrl, name);
}

/** The newest modification time under a path (the web's sources), to rebuild only when they changed. */
function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newestMtime(join(path, name))), st.mtimeMs);
}

function buildWebIfNeeded(): void {
  const built = join(root, 'web/build/handler.js');
  const sources = ['web/src', 'web/static', 'web/svelte.config.js', 'web/package.json']
    .map((p) => join(root, p))
    .filter(existsSync);
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  log('building the site (web/)…');
  const r = spawnSync('pnpm', ['--filter', '@starling/web', 'run', 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`building the site failed (pnpm --filter @starling/web run build):\n${r.stderr}`);
}

async function waitForHttp(url: string, child: ChildProcess, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within ${ms / 1000} s`);
}

function run(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`starling: ${name} stopped (${signal ?? code}); shutting everything down`);
      void shutdown(1);
    }
  });
  return child;
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  for (const s of services.reverse()) await s.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const postgres = await startPostgres({
      dataDir: postgresDataDir(),
      port: Number(process.env.STARLING_PG_PORT ?? 54329),
    });
    services.push(postgres);
    databaseUrl = await ensureDatabase(postgres.url, 'starling');
    log(`postgres (embedded)    ${databaseUrl}`);
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const migrated = await runMigrations(pool);
  await pool.end();
  log(
    migrated.applied.length ? `migrations applied: ${migrated.applied.join(', ')}` : 'schema is up to date',
  );
  if (!process.env.REDIS_URL)
    log('redis                  not configured (REDIS_URL unset): rate limits count per process');

  const chain = process.env.STELLAR_RPC_URL ? null : await startLocalChain(root, stateDir, log);
  if (chain) {
    services.push(chain.localnet);
    log(`local chain            ${chain.localnet.url}   contracts: ${chain.manifestPath}`);
  }

  const apiPort = process.env.PORT ?? '3000';
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const webOrigin = process.env.PUBLIC_WEB_URL ?? 'http://localhost:5173';
  const api = run('api', ['api/src/server.ts'], {
    ...devSecrets(),
    DATABASE_URL: databaseUrl,
    PORT: apiPort,
    PUBLIC_WEB_URL: webOrigin,
    CORS_ORIGINS: process.env.CORS_ORIGINS ?? `${webOrigin},http://127.0.0.1:5173`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The site's server calls the API from loopback and forwards the visitor's address.
    TRUST_PROXY: process.env.TRUST_PROXY ?? '127.0.0.1,::1',
    ...(chain?.env ?? {}),
  });
  await waitForHttp(`${apiUrl}/healthz`, api, 'api');
  const indexerPort = process.env.INDEXER_HTTP_PORT ?? '9100';
  if (chain) {
    const indexer = run(
      'indexer',
      ['--max-old-space-size=64', '--max-semi-space-size=6', 'indexer/src/cli.ts', 'run'],
      indexerEnv(chain, databaseUrl, indexerPort),
    );
    await waitForHttp(`http://127.0.0.1:${indexerPort}/healthz`, indexer, 'indexer');
  }
  const { courseSlug } = await seedDemo(apiUrl, databaseUrl);

  buildWebIfNeeded();
  const webPort = process.env.WEB_PORT ?? '5173';
  const webUrl = `http://localhost:${webPort}`;
  const web = run('web', ['web/server.js'], {
    PORT: webPort,
    HOST: process.env.WEB_HOST ?? '0.0.0.0',
    API_URL: apiUrl,
    PUBLIC_STELLAR_RPC_URL: process.env.PUBLIC_STELLAR_RPC_URL ?? process.env.STELLAR_RPC_URL ?? '',
    PUBLIC_STELLAR_NETWORK: process.env.STELLAR_NETWORK ?? 'local',
  });
  await waitForHttp(`${webUrl}/verify`, web, 'web');

  console.log(`
Starling is running.

  Site           ${webUrl}   (verify a certificate: ${webUrl}/verify)
  API            ${apiUrl}/v1
  API docs       ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)
  Health         ${apiUrl}/readyz   Metrics: ${apiUrl}/metrics
  Indexer        ${chain ? `http://127.0.0.1:${indexerPort}/status   (chain: ${chain.localnet.url})` : 'not running (STELLAR_RPC_URL points at another chain)'}

Demo accounts (password for all: ${DEMO_ACCOUNTS[0]!.password}):
${DEMO_ACCOUNTS.map((a) => `  ${a.role.padEnd(12)} ${a.email}`).join('\n')}
Demo course: ${courseSlug}

Press Ctrl-C to stop.`);
}

main().catch(async (err: unknown) => {
  console.error(`starling: start failed: ${(err as Error).message}`);
  await shutdown(1);
});
