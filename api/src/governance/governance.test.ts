// Governance against the real local chain (contracts deployed), real Postgres and the real indexer:
// a wallet holder delegates, proposes and votes by signing what the API prepared; the relay refuses
// anything else; custodial users and bad input are refused without writing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Address,
  Contract,
  Keypair,
  TransactionBuilder,
  nativeToScVal,
  rpc,
  scValToNative,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import {
  fundAccounts,
  indexerEnv,
  spawnIndexer,
  startChain,
  waitFor,
  type Chain,
  type IndexerProcess,
} from '../../../indexer/src/test/harness.ts';
import { bearer, buildTestApp, registerUser, type TestApp } from '../test/harness.ts';
import { sha256Hex } from './governance.service.ts';

let chain: Chain;
let t: TestApp;
let server: rpc.Server;
let indexer: IndexerProcess;
let passphrase: string;
let holder: Keypair;
let holderToken: string;
const MINTED = 250_000_000n;

/**
 * Signs and sends one call with `kp`. The local chain closes a ledger every 250 ms and keeps
 * fresh persistent entries for only 10 ledgers, so state a call reads can archive between
 * simulation and apply (ENTRY_ARCHIVED): simulate again, which restores it, and resend.
 */
async function invoke(kp: Keypair, contractId: string, fn: string, args: xdr.ScVal[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const account = await server.getAccount(kp.publicKey());
    const draft = new TransactionBuilder(account, { fee: '100', networkPassphrase: passphrase })
      .addOperation(new Contract(contractId).call(fn, ...args))
      .setTimeout(60)
      .build();
    const tx = await server.prepareTransaction(draft);
    tx.sign(kp);
    const sent = await server.sendTransaction(tx);
    expect(sent.status).toBe('PENDING');
    const done = await server.pollTransaction(sent.hash, { attempts: 60 });
    if (done.status === 'SUCCESS') return;
    if (attempt === 3) throw new Error(`${fn} failed ${attempt} times`);
  }
}

async function read(contractId: string, fn: string, args: xdr.ScVal[]): Promise<unknown> {
  const account = await server.getAccount(holder.publicKey());
  const tx = new TransactionBuilder(account, { fee: '100', networkPassphrase: passphrase })
    .addOperation(new Contract(contractId).call(fn, ...args))
    .setTimeout(60)
    .build();
  const sim = await server.simulateTransaction(tx);
  if (rpc.Api.isSimulationError(sim)) throw new Error(sim.error);
  return scValToNative(sim.result!.retval);
}

async function signInWallet(kp: Keypair): Promise<string> {
  const challenge = await t.app.inject({ url: `/v1/auth/stellar?account=${kp.publicKey()}` });
  const tx = TransactionBuilder.fromXDR(challenge.json().transaction, passphrase) as Transaction;
  tx.sign(kp);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/stellar',
    payload: { transaction: tx.toXDR() },
  });
  expect(res.statusCode).toBe(200);
  return res.json().access_token as string;
}

/** Signs what the API prepared with the wallet key and relays it. */
async function signAndRelay(prepared: { transaction: string }, kp = holder, token = holderToken) {
  const tx = TransactionBuilder.fromXDR(prepared.transaction, passphrase) as Transaction;
  tx.sign(kp);
  return t.app.inject({
    method: 'POST',
    url: '/v1/governance/transactions',
    headers: bearer(token),
    payload: { transaction: tx.toXDR() },
  });
}

/**
 * Prepare → sign → relay, as the site does, preparing again when the relay answers
 * `state_archived` (see invoke). Returns the prepared body and the relay's answer.
 */
async function walletAction(url: string, payload: Record<string, unknown>) {
  for (let attempt = 1; ; attempt++) {
    const prep = await t.app.inject({ method: 'POST', url, headers: bearer(holderToken), payload });
    expect(prep.statusCode, prep.body).toBe(201);
    const relayed = await signAndRelay(prep.json());
    expect(relayed.statusCode, relayed.body).toBe(200);
    if (relayed.json().error_code !== 'state_archived' || attempt === 3)
      return { prepared: prep.json(), result: relayed.json() };
  }
}

async function counts(): Promise<{ tx: number; texts: number }> {
  const tx = await t.ctx.db
    .selectFrom('governance_transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const texts = await t.ctx.db
    .selectFrom('governance_descriptions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return { tx: Number(tx.n), texts: Number(texts.n) };
}

beforeAll(async () => {
  chain = await startChain();
  passphrase = chain.manifest.networkPassphrase;
  server = new rpc.Server(chain.localnet.url, { allowHttp: true });
  t = await buildTestApp({
    env: {
      STELLAR_RPC_URL: chain.localnet.url,
      STELLAR_NETWORK_PASSPHRASE: passphrase,
      GOVERNANCE_CONTRACT_ID: chain.manifest.contracts.governance.contractId,
      TOKEN_CONTRACT_ID: chain.manifest.contracts.token.contractId,
    },
  });
  indexer = spawnIndexer(indexerEnv(chain, t.config.DATABASE_URL, { INDEXER_SUBMIT: 'false' }));
  holder = (await fundAccounts(chain.localnet.url, 1))[0]!;
  await waitFor('funded account', async () => server.getAccount(holder!.publicKey()).catch(() => null));
  holderToken = await signInWallet(holder!);
  const platform = Keypair.fromSecret(chain.manifest.platform.secret!);
  await invoke(platform, chain.manifest.contracts.token.contractId, 'mint_reward', [
    new Address(platform.publicKey()).toScVal(),
    new Address(holder!.publicKey()).toScVal(),
    nativeToScVal(MINTED, { type: 'i128' }),
    nativeToScVal('referral', { type: 'symbol' }),
  ]);
}, 900_000);

afterAll(async () => {
  await indexer?.stop();
  await t?.close();
  await chain?.stop();
});

describe('governance input and access', () => {
  it('refuses malformed requests with problem+json and writes nothing', async () => {
    const cases = [
      { url: '/v1/governance/proposals/abc/vote', payload: { support: true } },
      { url: '/v1/governance/proposals/1/vote', payload: { support: 'yes' } },
      { url: '/v1/governance/proposals/1/vote', payload: { support: true, weight: 10 } },
      { url: '/v1/governance/proposals', payload: { title: '', description: 'x', voting_period: 100 } },
      { url: '/v1/governance/proposals', payload: { title: 'T', description: 'x', voting_period: 0 } },
      { url: '/v1/governance/delegation', payload: { to: holder.publicKey() } },
      { url: '/v1/governance/proposals/abc/execute', payload: {} },
      { url: '/v1/governance/proposals/1/execute', payload: { force: true } },
      { url: '/v1/governance/transactions', payload: { transaction: 'not-xdr' } },
    ];
    for (const c of cases) {
      const res = await t.app.inject({ method: 'POST', headers: bearer(holderToken), ...c });
      expect(res.statusCode, `${c.url} ${JSON.stringify(c.payload)}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().type).toMatch(/^urn:starling:problem:/);
    }
    // A title over 128 bytes in UTF-8 but under 128 characters.
    const wide = await t.app.inject({
      method: 'POST',
      url: '/v1/governance/proposals',
      headers: bearer(holderToken),
      payload: { title: 'é'.repeat(100), description: 'text', voting_period: 100 },
    });
    expect(wide.statusCode).toBe(400);
    expect(wide.json().field).toBe('title');
    expect(await counts()).toEqual({ tx: 0, texts: 0 });
    const anon = await t.app.inject({
      method: 'POST',
      url: '/v1/governance/proposals/1/vote',
      payload: { support: true },
    });
    expect(anon.statusCode).toBe(401);
  });

  it('tells a custodial user that voting needs their own wallet', async () => {
    const u = await registerUser(t.app);
    const me = await t.app.inject({ url: '/v1/governance/me', headers: bearer(u.access) });
    expect(me.json()).toMatchObject({ wallet_kind: 'custodial', can_sign: false, votes: null });
    for (const [url, payload] of [
      ['/v1/governance/proposals/1/vote', { support: true }],
      ['/v1/governance/proposals', { title: 'Mine', description: 'text', voting_period: 100 }],
      ['/v1/governance/delegation', {}],
      ['/v1/governance/proposals/1/execute', {}],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url, headers: bearer(u.access), payload });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('custodial_wallet');
      expect(res.json().detail).toContain('your own wallet');
    }
    expect(await counts()).toEqual({ tx: 0, texts: 0 });
  });
});

describe('the wallet flow on the local chain', () => {
  const text =
    'Fund a Soroban study group.\n\nEach month, 500 BST go to the group with the most completed lessons.';
  let proposalId: string;
  let defeatedId: string;
  const u64 = (id: string) => nativeToScVal(BigInt(id), { type: 'u64' });
  const governance = () => chain.manifest.contracts.governance.contractId;
  const execute = (id: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/governance/proposals/${id}/execute`,
      headers: bearer(holderToken),
      payload: {},
    });

  it('delegates the holder’s BST to itself, so it has votes', async () => {
    const before = await t.app.inject({ url: '/v1/governance/me', headers: bearer(holderToken) });
    expect(before.json()).toMatchObject({
      can_sign: true,
      votes: '0',
      delegate: null,
      needs_delegation: true,
    });
    const { result } = await walletAction('/v1/governance/delegation', {});
    expect(result).toMatchObject({ action: 'delegate', status: 'success' });
    const after = await t.app.inject({ url: '/v1/governance/me', headers: bearer(holderToken) });
    expect(after.json()).toMatchObject({
      votes: MINTED.toString(),
      delegate: holder.publicKey(),
      needs_delegation: false,
    });
  });

  it('proposes: stores the text under its SHA-256 and the chain holds that hash', async () => {
    const { prepared, result } = await walletAction('/v1/governance/proposals', {
      title: 'Study group fund',
      description: text,
      voting_period: 2000,
    });
    expect(prepared.description_hash).toBe(sha256Hex(text));
    expect(result).toMatchObject({ action: 'propose', status: 'success' });
    const listed = await waitFor('the proposal ingested', async () => {
      const r = await t.app.inject({ url: '/v1/governance/proposals' });
      return r.json().proposals.length ? (r.json() as { proposals: Record<string, unknown>[] }) : null;
    });
    const p = listed.proposals[0]!;
    expect(p).toMatchObject({
      title: 'Study group fund',
      proposer: holder.publicKey(),
      description_hash: sha256Hex(text),
      status: 'active',
      votes_for: '0',
      executed: false,
    });
    expect(p.ledgers_left).toBeGreaterThan(1900);
    proposalId = String(p.id);
  });

  it('refuses a tampered, a foreign or an unsigned transaction and sends none of them', async () => {
    const prep = await t.app.inject({
      method: 'POST',
      url: `/v1/governance/proposals/${proposalId}/vote`,
      headers: bearer(holderToken),
      payload: { support: true },
    });
    expect(prep.statusCode, prep.body).toBe(201);
    const governance = chain.manifest.contracts.governance.contractId;
    // The same call with the other choice, built and signed by the wallet itself.
    const account = await server.getAccount(holder.publicKey());
    const flipped = await server.prepareTransaction(
      new TransactionBuilder(account, { fee: '100', networkPassphrase: passphrase })
        .addOperation(
          new Contract(governance).call(
            'vote',
            new Address(holder.publicKey()).toScVal(),
            nativeToScVal(BigInt(proposalId), { type: 'u64' }),
            xdr.ScVal.scvBool(false),
          ),
        )
        .setTimeout(60)
        .build(),
    );
    flipped.sign(holder);
    const tampered = await t.app.inject({
      method: 'POST',
      url: '/v1/governance/transactions',
      headers: bearer(holderToken),
      payload: { transaction: flipped.toXDR() },
    });
    expect(tampered.statusCode).toBe(422);
    expect(tampered.json().code).toBe('transaction_not_prepared');

    // Another function on the token (a transfer) is not a governance transaction at all.
    const transfer = await server.prepareTransaction(
      new TransactionBuilder(await server.getAccount(holder.publicKey()), {
        fee: '100',
        networkPassphrase: passphrase,
      })
        .addOperation(
          new Contract(chain.manifest.contracts.token.contractId).call(
            'transfer',
            new Address(holder.publicKey()).toScVal(),
            new Address(Keypair.random().publicKey()).toScVal(),
            nativeToScVal(1n, { type: 'i128' }),
          ),
        )
        .setTimeout(60)
        .build(),
    );
    transfer.sign(holder);
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/v1/governance/transactions',
      headers: bearer(holderToken),
      payload: { transaction: transfer.toXDR() },
    });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().code).toBe('unexpected_transaction');

    // The prepared one, signed by someone else.
    const wrongKey = await signAndRelay(prep.json(), Keypair.random());
    expect(wrongKey.statusCode).toBe(400);
    expect(wrongKey.json().code).toBe('invalid_signature');

    // Nothing reached the chain: no vote recorded, and the prepared row was never submitted.
    expect(
      (await read(governance, 'vote_of', [
        nativeToScVal(BigInt(proposalId), { type: 'u64' }),
        new Address(holder.publicKey()).toScVal(),
      ])) ?? null,
    ).toBeNull();
    const row = await t.ctx.db
      .selectFrom('governance_transactions')
      .select('status')
      .where('tx_hash', '=', prep.json().tx_hash)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('prepared');
  });

  it('a signed vote lands on chain, and the indexed tally and text show it', async () => {
    const { prepared, result } = await walletAction(`/v1/governance/proposals/${proposalId}/vote`, {
      support: true,
    });
    expect(result).toMatchObject({ action: 'vote', status: 'success', error: null });
    const governance = chain.manifest.contracts.governance.contractId;
    expect(
      await read(governance, 'vote_of', [
        nativeToScVal(BigInt(proposalId), { type: 'u64' }),
        new Address(holder.publicKey()).toScVal(),
      ]),
    ).toBe(true);

    const detail = await waitFor('the vote ingested', async () => {
      const r = await t.app.inject({ url: `/v1/governance/proposals/${proposalId}` });
      const body = r.json() as { votes: unknown[]; proposal: { votes_for: string }; description: unknown };
      return body.votes.length ? body : null;
    });
    expect(detail.proposal.votes_for).toBe(MINTED.toString());
    expect(detail.votes).toEqual([
      expect.objectContaining({ voter: holder.publicKey(), support: true, weight: MINTED.toString() }),
    ]);
    expect(detail.description).toEqual({ text, sha256: sha256Hex(text) });

    // Relaying the same envelope again reports the stored outcome; voting twice is refused up front.
    expect((await signAndRelay(prepared)).json().status).toBe('success');
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/governance/proposals/${proposalId}/vote`,
      headers: bearer(holderToken),
      payload: { support: false },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('already_voted');
  });

  it('closes a proposal once the chain passes its end ledger, with the contract’s verdict', async () => {
    const { result } = await walletAction('/v1/governance/proposals', {
      title: 'Short vote',
      description: 'Closes after ten ledgers.',
      voting_period: 10,
    });
    expect(result.status).toBe('success');
    const closed = await waitFor('the short proposal closed', async () => {
      const r = await t.app.inject({ url: '/v1/governance/proposals?limit=1' });
      const p = (r.json() as { proposals: { title: string; status: string }[] }).proposals[0];
      return p?.title === 'Short vote' && p.status === 'closed'
        ? (r.json() as { proposals: { id: string; ledgers_left: number }[]; next_cursor: string })
        : null;
    });
    expect(closed.proposals[0]!.ledgers_left).toBe(0);
    defeatedId = closed.proposals[0]!.id;
    const detail = await t.app.inject({ url: `/v1/governance/proposals/${closed.proposals[0]!.id}` });
    // Nobody voted: no quorum.
    expect(detail.json()).toMatchObject({ outcome: 'defeated', votes: [] });
    const open = await t.app.inject({ url: `/v1/governance/proposals/${proposalId}` });
    expect(open.json()).toMatchObject({ outcome: null, proposal: { status: 'active' } });

    const voteLate = await t.app.inject({
      method: 'POST',
      url: `/v1/governance/proposals/${closed.proposals[0]!.id}/vote`,
      headers: bearer(holderToken),
      payload: { support: true },
    });
    expect(voteLate.statusCode).toBe(409);
    expect(voteLate.json().code).toBe('voting_closed');

    // The second page, through the cursor the first one gave, holds the first proposal.
    const next = await t.app.inject({
      url: `/v1/governance/proposals?limit=1&cursor=${encodeURIComponent(closed.next_cursor)}`,
    });
    expect(next.json().proposals.map((p: { id: string }) => p.id)).toEqual([proposalId]);
    expect(next.json().next_cursor).toBeNull();
  });

  it('refuses to execute a proposal still open or defeated, saying why, and writes nothing', async () => {
    const before = await counts();
    for (const [id, code, says] of [
      [proposalId, 'voting_not_ended', 'still open'],
      [defeatedId, 'quorum_not_reached', 'defeated'],
    ] as const) {
      const res = await execute(id);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code });
      expect(res.json().detail).toContain(says);
    }
    expect(await counts()).toEqual(before);
    // ProposalState: 0 active, 1 defeated.
    expect(await read(governance(), 'state', [u64(proposalId)])).toBe(0);
    expect(await read(governance(), 'state', [u64(defeatedId)])).toBe(1);
  });

  it('executes a proposal that passed: it lands on chain, shows as executed once indexed, and only once', async () => {
    const title = 'Passing vote';
    const proposed = await walletAction('/v1/governance/proposals', {
      title,
      description: 'Passes with the holder’s votes.',
      voting_period: 60,
    });
    expect(proposed.result.status).toBe('success');
    // Its id from the chain (ids are sequential): the indexer may not have read it before voting ends.
    let id = '';
    for (let n = 1; ; n++) {
      const p = (await read(governance(), 'get_proposal', [u64(String(n))]).catch(() => null)) as {
        title: string;
        end_ledger: number;
      } | null;
      if (!p) break;
      if (p.title === title) id = String(n);
    }
    expect(id).not.toBe('');
    const voted = await walletAction(`/v1/governance/proposals/${id}/vote`, { support: true });
    expect(voted.result.status).toBe('success');

    const { end_ledger } = (await read(governance(), 'get_proposal', [u64(id)])) as { end_ledger: number };
    await waitFor('voting on it closed', async () => (await server.getLatestLedger()).sequence > end_ledger);
    const { prepared, result } = await walletAction(`/v1/governance/proposals/${id}/execute`, {});
    expect(prepared.action).toBe('execute');
    expect(result).toMatchObject({ action: 'execute', status: 'success', error: null });
    expect(await read(governance(), 'state', [u64(id)])).toBe(3); // Executed

    const detail = await waitFor('the execution ingested', async () => {
      const r = await t.app.inject({ url: `/v1/governance/proposals/${id}` });
      return r.json().proposal.executed ? (r.json() as Record<string, unknown>) : null;
    });
    expect(detail).toMatchObject({
      outcome: 'succeeded',
      proposal: { status: 'executed', votes_for: MINTED.toString(), votes_against: '0' },
    });

    const before = await counts();
    const again = await execute(id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'already_executed',
      detail: 'This proposal was already executed.',
    });
    expect(await counts()).toEqual(before);
  }, 120_000);

  it('answers 404 for a proposal nobody made and 400 for a cursor it did not give', async () => {
    const missing = await t.app.inject({ url: '/v1/governance/proposals/999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('proposal_not_found');
    const bad = await t.app.inject({ url: '/v1/governance/proposals?cursor=zzz' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('cursor');
  });
});
