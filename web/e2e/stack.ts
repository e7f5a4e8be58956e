// The whole system for browser tests: a private Postgres and Redis, migrations, the real API
// (node api/src/server.ts), optionally the local chain with the indexer, and the BUILT site
// (node web/server.js). Everything listens on free loopback ports and stops with stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Keypair } from '@stellar/stellar-sdk';
import { runMigrations } from '@starling/migrations';
import {
  freePort,
  startPostgres,
  startRedis,
  withDatabase,
  type RunningService,
} from '../../ops/dev/services.ts';
import { localnetBinary, startLocalnet, type Localnet } from '../../ops/localnet/localnet.ts';
import { deploy, type Manifest } from '../../ops/deploy/deploy.ts';

export const root = resolve(import.meta.dirname, '../..');

export interface Stack {
  apiUrl: string;
  webUrl: string;
  /** The chain's RPC as browsers reach it (with CORS, like public RPC providers), when running. */
  rpcUrl: string | null;
  /** Why the chain is not running (no Rust toolchain, no contracts build…), when it is not. */
  chainSkipped: string | null;
  /** The local chain's deployment (contract ids, platform key, the chain's own RPC URL), when running. */
  manifest: Manifest | null;
  databaseUrl: string;
  db: pg.Pool;
  logs: string[];
  stop(): Promise<void>;
}

async function waitForHttp(
  url: string,
  child: ChildProcess,
  what: string,
  logs: string[],
  ms = 40_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited (${child.exitCode}):\n${logs.slice(-30).join('\n')}`);
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

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logs: string[],
  name: string,
): ChildProcess {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  /** Run the local chain with the contracts deployed and the indexer (default: when buildable). */
  chain?: boolean;
}

/**
 * Public Stellar RPC providers answer browsers' CORS preflight; the local chain does not, so the
 * browser reaches it through this forwarder, as it would reach a public RPC.
 */
function startCorsForwarder(target: string, port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', 'content-type');
    res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const r = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(Buffer.from(await r.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

interface Chain {
  localnet: Localnet;
  manifest: Manifest;
  forwarder: Server;
  rpcUrl: string;
  env: { api: Record<string, string>; indexer: Record<string, string> };
}

async function startChain(dir: string): Promise<Chain> {
  const bin = localnetBinary();
  const localnet = await startLocalnet(bin, { ledgerIntervalMs: 250 });
  try {
    const manifestPath = join(dir, 'local.json');
    const manifest = await deploy({
      rpcUrl: localnet.url,
      network: 'local',
      wasmDir: join(root, 'contracts/build'),
      out: manifestPath,
      fund: true,
      log: () => undefined,
    });
    const port = await freePort();
    const forwarder = await startCorsForwarder(localnet.url, port);
    return {
      localnet,
      manifest,
      forwarder,
      rpcUrl: `http://127.0.0.1:${port}`,
      env: {
        api: {
          STELLAR_RPC_URL: localnet.url,
          STELLAR_NETWORK: 'local',
          CERTIFICATE_CONTRACT_ID: manifest.contracts.certificate.contractId,
          GOVERNANCE_CONTRACT_ID: manifest.contracts.governance.contractId,
          TOKEN_CONTRACT_ID: manifest.contracts.token.contractId,
          STELLAR_NETWORK_PASSPHRASE: manifest.networkPassphrase,
        },
        indexer: {
          STELLAR_RPC_URL: localnet.url,
          STELLAR_NETWORK: 'local',
          DEPLOYMENT_MANIFEST: manifestPath,
          PLATFORM_SECRET: manifest.platform.secret!,
          INDEXER_HTTP_PORT: '0',
          INDEXER_POLL_MS: '200',
          INDEXER_SUBMIT_POLL_MS: '200',
          LOG_LEVEL: 'warn',
        },
      },
    };
  } catch (e) {
    await localnet.stop();
    throw e;
  }
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'starling-web-e2e-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory inside
  const services: RunningService[] = [];
  const children: ChildProcess[] = [];
  let chain: Chain | null = null;
  let chainSkipped: string | null = null;
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    if (chain) {
      await new Promise((r) => chain!.forwarder.close(r));
      await chain.localnet.stop();
    }
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
    if (opts.chain ?? process.env.STARLING_E2E_CHAIN !== '0') {
      try {
        chain = await startChain(dir);
      } catch (e) {
        chainSkipped = `local chain not available: ${(e as Error).message.split('\n')[0]}`;
      }
    } else chainSkipped = 'STARLING_E2E_CHAIN=0';
    const rpcUrl = chain?.rpcUrl ?? null;
    const api = run(
      process.execPath,
      ['api/src/server.ts'],
      {
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
        ...chain?.env.api,
        ...opts.apiEnv,
      },
      logs,
      'api',
    );
    children.push(api);
    await waitForHttp(`${apiUrl}/healthz`, api, 'api', logs);
    if (chain)
      children.push(
        run(
          process.execPath,
          ['indexer/src/cli.ts', 'run'],
          { DATABASE_URL: databaseUrl, ...chain.env.indexer },
          logs,
          'indexer',
        ),
      );

    const server = join(root, 'web/server.js');
    if (!existsSync(join(root, 'web/build/handler.js')))
      throw new Error('web/build is missing: run `pnpm --filter @starling/web build` first');
    const web = run(
      process.execPath,
      [server],
      {
        NODE_ENV: 'production',
        PORT: String(webPort),
        HOST: '127.0.0.1',
        ORIGIN: webUrl,
        API_URL: apiUrl,
        COOKIE_SECURE: 'false',
        PUBLIC_STELLAR_RPC_URL: rpcUrl ?? 'http://127.0.0.1:9',
        PUBLIC_STELLAR_NETWORK: 'local',
      },
      logs,
      'web',
    );
    children.push(web);
    await waitForHttp(`${webUrl}/verify`, web, 'web', logs);
    return {
      apiUrl,
      webUrl,
      rpcUrl,
      chainSkipped,
      manifest: chain?.manifest ?? null,
      databaseUrl,
      db,
      logs,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
