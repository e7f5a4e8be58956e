// Starts and stops the local chain binary for tests and benchmarks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Localnet {
  url: string;
  port: number;
  process: ChildProcess;
  stop: () => Promise<void>;
}

export interface LocalnetOptions {
  ledgerIntervalMs?: number;
  retentionLedgers?: number;
  stateFile?: string;
  passphrase?: string;
  /** Extra environment for the process (e.g. LOCALNET_LOG_LEDGERS=1). */
  env?: Record<string, string>;
  /** Called with each stderr chunk after start. */
  onStderr?: (chunk: string) => void;
  /** Benchmark aid: synthetic events the chain appends at start. */
  seedEvents?: number;
}

/** The release binary: LOCALNET_BIN, else built (or reused) by ops/scripts/build-localnet.sh. */
export function localnetBinary(): string {
  const fromEnv = process.env.LOCALNET_BIN;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const built = spawnSync('bash', [join(repoRoot, 'ops/scripts/build-localnet.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error('ops/scripts/build-localnet.sh failed');
  return built.stdout.trim().split('\n').pop()!;
}

/** Starts the chain on a free port and resolves once it prints its ready line. */
export function startLocalnet(bin: string, opts: LocalnetOptions = {}): Promise<Localnet> {
  const args = ['--port', '0', '--ledger-interval-ms', String(opts.ledgerIntervalMs ?? 200)];
  if (opts.retentionLedgers) args.push('--retention-ledgers', String(opts.retentionLedgers));
  if (opts.stateFile) args.push('--state-file', opts.stateFile);
  if (opts.passphrase) args.push('--network-passphrase', opts.passphrase);
  if (opts.seedEvents) args.push('--seed-events', String(opts.seedEvents));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  return new Promise((resolveStart, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`localnet did not start: ${out}`)),
      opts.seedEvents ? 300_000 : 20_000,
    );
    child.once('exit', (code) => reject(new Error(`localnet exited with ${code}: ${out}`)));
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      opts.onStderr?.(d.toString());
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /localnet listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m?.[1] && m[2]) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolveStart({
          url: m[1],
          port: Number(m[2]),
          process: child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** A raw result: tests and the bench read the few fields they check. */
export type RawResult = Record<string, unknown>;

export interface RawReply<T> {
  result?: T;
  error?: { code: number; message: string };
}

export interface TxResult {
  status: string;
  ledger: number;
  txHash: string;
  resultXdr?: string;
  diagnosticEventsXdr?: string[];
}

export interface EventsResult {
  events: { id: string }[];
  cursor: string;
  latestLedger: number;
  oldestLedger: number;
}

/** Raw JSON-RPC call (for schema checks and error codes the SDK hides). */
export async function rawRpc<T = RawResult>(
  url: string,
  method: string,
  params?: unknown,
): Promise<RawReply<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }),
  });
  return (await res.json()) as RawReply<T>;
}
