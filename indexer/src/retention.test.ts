// History that is gone: a cursor older than the RPC's oldest ledger stops ingest loudly and
// never skips; `rebuild` restores the projections (governance included) from ledger entries; a
// reset network (ledger numbers going backwards behind the same URL) is detected and stops the daemon.
import {
  Address,
  Keypair,
  Operation,
  TransactionBuilder,
  nativeToScVal,
  rpc,
  scValToNative,
  type Transaction,
  type xdr,
} from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../ops/test/db.ts';
import { startLocalnet } from '../../ops/localnet/localnet.ts';
import { startRpcProxy, type RpcProxy } from './test/rpc-proxy.ts';
import {
  addCertificateIntent,
  addProgressIntent,
  addRewardIntent,
  chainBinary,
  createCourse,
  createLearner,
  fundAccounts,
  indexerEnv,
  intentStatuses,
  newRefereeId,
  runCli,
  spawnIndexer,
  startChain,
  waitFor,
  type Chain,
} from './test/harness.ts';

const RETENTION = 40;
let chain: Chain;
let database: { url: string; drop(): Promise<void> };
let db: Kysely<Database>;
let proxy: RpcProxy;

beforeAll(async () => {
  [chain, database] = await Promise.all([
    startChain({ ledgerIntervalMs: 200, retentionLedgers: RETENTION }),
    createTestDatabase(),
  ]);
  db = createDb(createPool(database.url, 4));
  proxy = await startRpcProxy(chain.localnet.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await db?.destroy();
  await chain?.stop();
  await database?.drop();
});

const latestLedger = async (url: string) =>
  (
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"getLatestLedger"}',
      })
    ).json()) as { result: { sequence: number } }
  ).result.sequence;

/** Simulates `tx`; drops the state changes this chain lists without a key (an entry the call
 * created and removed again, like the governance reentrancy guard), which the SDK cannot parse. */
async function simulate(tx: Transaction): Promise<rpc.Api.SimulateTransactionResponse> {
  const res = await fetch(chain.localnet.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'simulateTransaction',
      params: { transaction: tx.toXDR() },
    }),
  });
  const raw = ((await res.json()) as { result: { stateChanges?: { key: string }[] } }).result;
  if (raw.stateChanges) raw.stateChanges = raw.stateChanges.filter((c) => c.key);
  return rpc.parseRawSimulation(raw as never);
}

async function signAndSend(server: rpc.Server, tx: Transaction, kp: Keypair) {
  tx.sign(kp);
  const sent = await server.sendTransaction(tx);
  if (sent.status === 'ERROR') throw new Error(`send failed: ${sent.errorResult?.toXDR('base64')}`);
  return server.pollTransaction(sent.hash, { attempts: 100, sleepStrategy: () => 100 });
}

/**
 * Calls `method` on a deployed contract from `kp`'s account; its return value. On this chain a
 * new entry lives 10 ledgers (2 s) unless the contract extends it, and the token's votes
 * checkpoints are not extended when written: an archived one is restored first, and a call that
 * read one just as it archived failed without effect and is made again.
 */
async function invoke(
  kp: Keypair,
  name: 'token' | 'governance',
  method: string,
  args: xdr.ScVal[],
): Promise<unknown> {
  const server = new rpc.Server(chain.localnet.url, { allowHttp: true });
  const networkPassphrase = chain.manifest.networkPassphrase;
  let status = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const tx = new TransactionBuilder(await server.getAccount(kp.publicKey()), {
      fee: '100',
      networkPassphrase,
    })
      .addOperation(
        Operation.invokeContractFunction({
          contract: chain.manifest.contracts[name].contractId,
          function: method,
          args,
        }),
      )
      .setTimeout(30)
      .build();
    const sim = await simulate(tx);
    if (rpc.Api.isSimulationError(sim)) throw new Error(`${name}.${method}: ${sim.error}`);
    if (rpc.Api.isSimulationRestore(sim)) {
      const restore = new TransactionBuilder(await server.getAccount(kp.publicKey()), {
        fee: sim.restorePreamble.minResourceFee,
        networkPassphrase,
      })
        .setSorobanData(sim.restorePreamble.transactionData.build())
        .addOperation(Operation.restoreFootprint({}))
        .setTimeout(30)
        .build();
      await signAndSend(server, restore, kp);
      continue;
    }
    const res = await signAndSend(server, rpc.assembleTransaction(tx, sim).build(), kp);
    status = res.status;
    if (res.status === 'SUCCESS') return res.returnValue ? scValToNative(res.returnValue) : null;
  }
  throw new Error(`${name}.${method}: ${status}`);
}

const address = (a: string) => nativeToScVal(Address.fromString(a), { type: 'address' });
const u64 = (n: bigint) => nativeToScVal(n, { type: 'u64' });
const i128 = (n: bigint) => nativeToScVal(n, { type: 'i128' });
const BST = 10_000_000n;

describe('retention gap', () => {
  it('stops with retention_gap and an unchanged cursor; rebuild restores state from ledger entries; run resumes', async () => {
    const env = indexerEnv(chain, database.url, {
      STELLAR_RPC_URL: proxy.url,
      INDEXER_START_LEDGER: String(await latestLedger(chain.localnet.url)),
    });
    const instructor = await createLearner(db);
    const course = await createCourse(db, instructor.userId);
    const early = await createLearner(db);
    await addProgressIntent(db, early, course, 100);
    // Governance before the gap: holders with delegated BST (the platform 300, a learner 100),
    // proposal 1 and both votes on it, all ingested.
    const platform = Keypair.fromSecret(chain.manifest.platform.secret!);
    const [voterKp] = await fundAccounts(chain.localnet.url, 1);
    const voter = await createLearner(db, voterKp!.publicKey());
    for (const [kp, amount] of [
      [platform, 300n * BST],
      [voterKp!, 100n * BST],
    ] as const) {
      const to = address(kp.publicKey());
      const grant = nativeToScVal('grant', { type: 'symbol' });
      await invoke(platform, 'token', 'mint_reward', [
        address(platform.publicKey()),
        to,
        i128(amount),
        grant,
      ]);
      await invoke(kp, 'token', 'delegate', [to, to]);
    }
    const propose = (title: string, hashByte: number, period: number) =>
      invoke(voterKp!, 'governance', 'propose', [
        address(voter.address),
        nativeToScVal(title, { type: 'string' }),
        nativeToScVal(Buffer.alloc(32, hashByte), { type: 'bytes' }),
        nativeToScVal(period, { type: 'u32' }),
      ]) as Promise<bigint>;
    const vote = (kp: Keypair, id: bigint, support: boolean) =>
      invoke(kp, 'governance', 'vote', [address(kp.publicKey()), u64(id), nativeToScVal(support)]);
    const proposalOne = await propose('Open more courses', 1, 40);
    await vote(platform, proposalOne, true);
    await vote(voterKp!, proposalOne, false);
    const first = spawnIndexer(env);
    await waitFor(
      'first intent confirmed',
      async () => (await intentStatuses(db)).confirmed === 1,
      30_000,
    ).catch(async (e: unknown) => {
      console.error(
        JSON.stringify(await db.selectFrom('intents').selectAll().execute()),
        first.output().slice(-3000),
      );
      throw e;
    });
    await waitFor(
      'proposal 1 and its votes ingested',
      async () => (await db.selectFrom('governance_votes').select('voter').execute()).length === 2,
      30_000,
    );
    expect(await first.stop()).toBe(0);
    const proposal1 = await db.selectFrom('governance_proposals').selectAll().executeTakeFirstOrThrow();
    const votes1 = await db.selectFrom('governance_votes').selectAll().orderBy('voter').execute();

    // While ingest is down, the submitter alone lands more effects; then their events age out.
    const late = await createLearner(db);
    const referrer = await createLearner(db);
    await addProgressIntent(db, late, course, 100);
    const cert = await addCertificateIntent(db, late, course);
    await addRewardIntent(db, referrer, newRefereeId());
    const submitOnly = spawnIndexer({ ...env, INDEXER_INGEST: 'false' });
    await waitFor('three intents submitted', async () => (await intentStatuses(db)).submitted === 3, 30_000);
    await submitOnly.stop();
    // Governance inside the gap: proposal 2 and both votes on it, and proposal 1 executed.
    const proposalTwo = await propose('Weekend workshops', 2, 50);
    await vote(voterKp!, proposalTwo, true);
    await vote(platform, proposalTwo, false);
    await waitFor(
      'proposal 1 voting over',
      async () => (await latestLedger(chain.localnet.url)) > proposal1.end_ledger,
      30_000,
    );
    await invoke(platform, 'governance', 'execute', [u64(proposalOne)]);
    const before = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
    const target = (await latestLedger(chain.localnet.url)) + RETENTION + 5;
    await waitFor(
      'the events age out of retention',
      async () => (await latestLedger(chain.localnet.url)) > target,
      30_000,
    );

    const gap = spawnIndexer(env);
    expect(await gap.exited).toBe(3);
    expect(gap.output()).toMatch(/older than the RPC's oldest ledger/);
    const after = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
    expect(after.status).toBe('retention_gap');
    expect(after.status_detail).toMatch(/run `rebuild`/);
    expect(after.cursor).toBe(before.cursor);
    expect(after.last_ledger).toBe(before.last_ledger);
    expect(after.retention_headroom_ledgers).toBeLessThan(0);
    const status = await runCli(env, ['status']);
    expect(status.out).toContain('"status": "retention_gap"');

    const rebuilt = await runCli(env, ['rebuild']);
    expect(rebuilt.code).toBe(0);
    const progress = await db
      .selectFrom('onchain_progress')
      .select(['student_address', 'percent'])
      .orderBy('student_address')
      .execute();
    expect(progress).toEqual(
      expect.arrayContaining([
        { student_address: early.address, percent: 100 },
        { student_address: late.address, percent: 100 },
      ]),
    );
    expect(
      (
        await db
          .selectFrom('bst_balances')
          .selectAll()
          .where('address', '=', referrer.address)
          .executeTakeFirstOrThrow()
      ).balance,
    ).toBe('500000000');
    expect((await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow()).total).toBe(
      (50n * BST + 400n * BST).toString(),
    );
    // Proposal 1 as ingested, now executed; proposal 2 from storage alone (no tx hash to know).
    const proposals = await db
      .selectFrom('governance_proposals')
      .selectAll()
      .orderBy('proposal_id')
      .execute();
    expect(proposals).toEqual([
      { ...proposal1, executed: true },
      {
        contract_id: chain.manifest.contracts.governance.contractId,
        proposal_id: String(proposalTwo),
        proposer: voter.address,
        title: 'Weekend workshops',
        description_hash: '02'.repeat(32),
        snapshot_ledger: expect.any(Number),
        end_ledger: proposals[1]!.snapshot_ledger + 51,
        votes_for: (100n * BST).toString(),
        votes_against: (300n * BST).toString(),
        executed: false,
        executed_ledger: null,
        created_ledger: proposals[1]!.snapshot_ledger + 1,
        tx_hash: '',
      },
    ]);
    // Votes on 1 stay as ingested; those on 2 weigh what the voters held at its snapshot.
    const votes = await db
      .selectFrom('governance_votes')
      .selectAll()
      .orderBy('proposal_id')
      .orderBy('voter')
      .execute();
    const rebuiltVote = {
      contract_id: proposal1.contract_id,
      proposal_id: String(proposalTwo),
      ledger: expect.any(Number),
      event_id: expect.stringMatching(/^rebuild-/),
    };
    expect(votes).toEqual(
      [
        ...votes1,
        { ...rebuiltVote, voter: platform.publicKey(), support: false, weight: (300n * BST).toString() },
        { ...rebuiltVote, voter: voter.address, support: true, weight: (100n * BST).toString() },
      ].sort((a, b) => a.proposal_id.localeCompare(b.proposal_id) || a.voter.localeCompare(b.voter)),
    );
    const c = await db
      .selectFrom('certificates')
      .selectAll()
      .where('id', '=', cert.certificateId)
      .executeTakeFirstOrThrow();
    expect(c.status).toBe('confirmed');
    expect(c.chain_certificate_id).toBeTruthy();

    const resumed = spawnIndexer(env);
    try {
      await waitFor(
        'following again',
        async () =>
          (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status === 'following',
        30_000,
      );
      const more = await createLearner(db);
      await addProgressIntent(db, more, course, 40);
      await waitFor(
        'a new intent confirmed after the rebuild',
        async () =>
          (
            await db
              .selectFrom('onchain_progress')
              .select('percent')
              .where('student_address', '=', more.address)
              .executeTakeFirst()
          )?.percent === 40,
        30_000,
      );
    } finally {
      await resumed.stop();
    }
  }, 180_000);
});

describe('network reset', () => {
  it('a chain whose ledgers went backwards behind the same URL stops ingest with network_reset', async () => {
    const env = indexerEnv(chain, database.url, { STELLAR_RPC_URL: proxy.url });
    const fresh = await startLocalnet(chainBinary(), { ledgerIntervalMs: 100 });
    try {
      proxy.upstream = fresh.url;
      const p = spawnIndexer(env);
      expect(await p.exited).toBe(4);
      expect(p.output()).toMatch(/network was reset/);
      expect((await db.selectFrom('indexer_state').select('status').executeTakeFirstOrThrow()).status).toBe(
        'network_reset',
      );
    } finally {
      proxy.upstream = chain.localnet.url;
      await fresh.stop();
    }
  }, 120_000);
});
