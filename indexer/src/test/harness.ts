// Test builders: a real local chain with Starling's contracts deployed, learners/courses/intents
// in a real test database, and the indexer as a child process (so kill -9 is real).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keypair } from '@stellar/stellar-sdk';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@starling/migrations';
import {
  localnetBinary,
  startLocalnet,
  type Localnet,
  type LocalnetOptions,
} from '../../../ops/localnet/localnet.ts';
import { deploy, type Manifest } from '../../../ops/deploy/deploy.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(repoRoot, 'indexer/src/cli.ts');

export interface Chain {
  localnet: Localnet;
  manifest: Manifest;
  manifestPath: string;
  stop(): Promise<void>;
}

let cachedBin: string | null = null;

/** The localnet binary, built (or found) once per test file. */
export function chainBinary(): string {
  cachedBin ??= localnetBinary();
  return cachedBin;
}

export async function startChain(opts: LocalnetOptions = {}): Promise<Chain> {
  const localnet = await startLocalnet(chainBinary(), { ledgerIntervalMs: 250, ...opts });
  const manifestPath = join(mkdtempSync(join(tmpdir(), 'starling-deploy-')), 'local.json');
  const manifest = await deploy({
    rpcUrl: localnet.url,
    network: 'local',
    wasmDir: join(repoRoot, 'contracts/build'),
    out: manifestPath,
    fund: true,
    log: () => undefined,
  });
  return { localnet, manifest, manifestPath, stop: () => localnet.stop() };
}

/** Funds fresh accounts through the local friendbot (channel accounts). */
export async function fundAccounts(rpcUrl: string, n: number): Promise<Keypair[]> {
  const out: Keypair[] = [];
  for (let i = 0; i < n; i++) {
    const kp = Keypair.random();
    const res = await fetch(`${rpcUrl}/friendbot?addr=${kp.publicKey()}`, { method: 'POST' });
    if (!res.ok) throw new Error(`friendbot ${res.status}`);
    out.push(kp);
  }
  return out;
}

export function indexerEnv(
  chain: Chain,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    STELLAR_RPC_URL: chain.localnet.url,
    STELLAR_NETWORK: 'local',
    DEPLOYMENT_MANIFEST: chain.manifestPath,
    PLATFORM_SECRET: chain.manifest.platform.secret!,
    INDEXER_HTTP_PORT: '0',
    INDEXER_POLL_MS: '100',
    INDEXER_SUBMIT_POLL_MS: '100',
    INDEXER_LOCK_POLL_MS: '200',
    INDEXER_TX_TIMEOUT_SECONDS: '10',
    // Every page with an event is followed by one built on the page worker, so the daemon tests
    // (kill -9, faults, retention) run both paths; the default waits for catch-up-sized pages.
    INDEXER_PAGE_WORKER_MIN_EVENTS: '1',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface IndexerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export function spawnIndexer(env: Record<string, string>, args: string[] = ['run']): IndexerProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code, signal) => res(signal ? -1 : code)),
  );
  return {
    child,
    output: () => out,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function runCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; out: string }> {
  const p = spawnIndexer(env, args);
  const code = await p.exited;
  return { code, out: p.output() };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Learner {
  userId: string;
  address: string;
}

export async function createLearner(
  db: Kysely<Database>,
  address = Keypair.random().publicKey(),
): Promise<Learner> {
  const u = await db
    .insertInto('users')
    .values({
      email: `l-${randomBytes(5).toString('hex')}@example.test`,
      password_hash: 'x',
      display_name: 'Learner',
      stellar_address: address,
      wallet_kind: 'external',
      referral_code: randomBytes(6).toString('hex'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: u.id, address };
}

export async function createCourse(db: Kysely<Database>, instructorId: string): Promise<string> {
  const c = await db
    .insertInto('courses')
    .values({
      instructor_id: instructorId,
      slug: `c-${randomBytes(5).toString('hex')}`,
      title: 'Soroban basics',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return c.id;
}

export const hexOf = (uuid: string) => uuid.replace(/-/g, '');

export async function addProgressIntent(
  db: Kysely<Database>,
  l: Learner,
  courseId: string,
  percent: number,
): Promise<string> {
  const r = await db
    .insertInto('intents')
    .values({
      kind: 'record_progress',
      idempotency_key: `progress:${l.userId}:${courseId}:${percent}`,
      user_id: l.userId,
      course_id: courseId,
      args: JSON.stringify({ student: l.address, course_id: hexOf(courseId), percent }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** A pending certificate row plus its issue intent, as the API writes them at 100 %. */
export async function addCertificateIntent(
  db: Kysely<Database>,
  l: Learner,
  courseId: string,
): Promise<{ intentId: string; certificateId: string }> {
  const certificateId = randomUUID();
  const canonical = JSON.stringify({
    course: courseId,
    learner: l.userId,
    n: randomBytes(4).toString('hex'),
  });
  const hash = createHash('sha256').update(canonical, 'utf8').digest('hex');
  await db
    .insertInto('certificates')
    .values({
      id: certificateId,
      user_id: l.userId,
      course_id: courseId,
      student_address: l.address,
      document: canonical,
      document_canonical: canonical,
      document_hash: hash,
    })
    .execute();
  const r = await db
    .insertInto('intents')
    .values({
      kind: 'issue_certificate',
      idempotency_key: `cert:${l.userId}:${courseId}`,
      user_id: l.userId,
      course_id: courseId,
      certificate_id: certificateId,
      args: JSON.stringify({
        student: l.address,
        course_id: hexOf(courseId),
        metadata_hash: hash,
        certificate_id: certificateId,
      }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { intentId: r.id, certificateId };
}

export async function addRewardIntent(
  db: Kysely<Database>,
  referrer: Learner,
  refereeId: string,
  amount = '500000000',
): Promise<string> {
  const r = await db
    .insertInto('intents')
    .values({
      kind: 'mint_reward',
      idempotency_key: `referral:${refereeId}`,
      user_id: referrer.userId,
      args: JSON.stringify({ to: referrer.address, amount, reason: 'referral', referee_id: refereeId }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export async function intentStatuses(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('intents')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Order-independent hashes of the projection tables (what verify compares, from the test's side). */
export async function tableHashes(db: Kysely<Database>): Promise<Record<string, string>> {
  const tables: Record<string, string> = {
    chain_events: 'id, ledger, contract_id, tx_hash, name, topics, value, topics_xdr, value_xdr',
    onchain_progress: 'student_address, course_id, percent, ledger, event_id',
    bst_balances: 'address, balance',
    bst_supply: 'total',
    chain_certificates:
      'contract_id, certificate_id, student_address, course_id, metadata_hash, issuer, issued_ledger, revoked, revoked_ledger, revoke_reason',
    governance_proposals:
      'contract_id, proposal_id, proposer, title, description_hash, snapshot_ledger, end_ledger, votes_for, votes_against, executed, executed_ledger, created_ledger, tx_hash',
    governance_votes: 'contract_id, proposal_id, voter, support, weight, ledger, event_id',
  };
  const out: Record<string, string> = {};
  for (const [t, cols] of Object.entries(tables)) {
    const r = await sql<{ h: string | null; n: string }>`
      SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h, count(*)::text AS n FROM (SELECT ${sql.raw(cols)} FROM ${sql.table(t)}) x`.execute(
      db,
    );
    out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
  }
  return out;
}

/** A fresh id for a referee (rewards are keyed by referee). */
export const newRefereeId = () => randomUUID();

export { randomUUID };
