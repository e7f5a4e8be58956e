// Private Postgres and Redis instances for the start command and the test harness: real servers on
// loopback ports, data in a directory we own, stopped with the process that started them.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

export interface RunningService {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql (ops/scripts/prereqs.sh installs them)',
  );
}

const isRoot = process.getuid?.() === 0;

/**
 * Postgres refuses to run as root: as root, run it as the `postgres` system user. The process is
 * spawned with that uid directly (not through runuser) so our signals reach the postmaster itself.
 */
function pgUser(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

function giveToPgUser(dir: string): void {
  const ids = pgUser();
  if ('uid' in ids) chownSync(dir, ids.uid, ids.gid);
}

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  child: ChildProcess,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${ms} ms`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export interface PostgresOptions {
  dataDir: string;
  port?: number;
  /** Durability off: for throw-away test clusters only. */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres extends RunningService {
  /**
   * Fast shutdown (open transactions roll back, every connection is closed), `downMs` with no
   * server, then the same cluster starts again on the same port: what a database restart or
   * a failover looks like to clients.
   */
  restart(downMs?: number): Promise<void>;
}

export async function startPostgres(opts: PostgresOptions): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const port = opts.port ?? (await freePort());
  const socketDir = join(opts.dataDir, 'socket');
  const pgdata = join(opts.dataDir, 'data');
  mkdirSync(opts.dataDir, { recursive: true });
  giveToPgUser(opts.dataDir);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const args = [
      '-D',
      pgdata,
      '-U',
      'starling',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ];
    try {
      execFileSync(join(bin, 'initdb'), args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        cwd: opts.dataDir,
        ...pgUser(),
      });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed: ${stderr.trim() || (err as Error).message}`);
    }
  }
  mkdirSync(socketDir, { recursive: true });
  giveToPgUser(socketDir);
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  if (opts.ephemeral) {
    settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const args = ['-D', pgdata, '-p', String(port), '-k', socketDir, ...settings];
  const url = `postgres://starling@127.0.0.1:${port}/postgres`;
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(join(bin, 'postgres'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: opts.dataDir,
      ...pgUser(),
    });
    const lines: string[] = [];
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        if (lines.length > 50) lines.shift();
        opts.log?.(line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    try {
      await waitFor(
        async () => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.end();
          return true;
        },
        'postgres',
        child,
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${lines.join('\n')}`);
    }
    return child;
  };
  let child = await launch();
  return {
    url,
    port,
    // SIGINT is Postgres's "fast" shutdown: rolls back open transactions and exits cleanly.
    stop: () => stopChild(child, 'SIGINT'),
    async restart(downMs = 0) {
      await stopChild(child, 'SIGINT');
      await new Promise((r) => setTimeout(r, downMs));
      child = await launch();
    },
  };
}

export async function startRedis(opts: { port?: number; dir: string }): Promise<RunningService> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dir, { recursive: true });
  const conf = join(opts.dir, 'redis.conf');
  writeFileSync(
    conf,
    `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${opts.dir}\nprotected-mode yes\n`,
  );
  const child = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = `redis://127.0.0.1:${port}`;
  const { default: net } = await import('node:net');
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.write('PING\r\n');
        });
        s.on('data', (d) => {
          s.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
        s.on('error', () => resolve(false));
      }),
    'redis-server',
    child,
  );
  return { url, port, stop: () => stopChild(child, 'SIGTERM') };
}

/** Replaces the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
