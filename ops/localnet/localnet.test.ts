// The local chain, driven only through @stellar/stellar-sdk as a client (plus raw JSON-RPC for
// the schema checks): deploy, invoke every contract, page events, errors, retention, restart.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import {
  Account,
  Address,
  Contract,
  Keypair,
  Networks,
  Operation,
  TransactionBuilder,
  contract,
  nativeToScVal,
  rpc,
  scValToNative,
  xdr,
} from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, deploy, type Manifest } from '../deploy/deploy.ts';
import {
  localnetBinary,
  rawRpc,
  repoRoot,
  startLocalnet,
  type EventsResult,
  type Localnet,
  type RawResult,
  type TxResult,
} from './localnet.ts';

type ContractMethods = Record<
  string,
  (args: Record<string, unknown>) => Promise<contract.AssembledTransaction<unknown>>
>;

const openrpc = JSON.parse(
  readFileSync(resolve(repoRoot, '../shared/reference/stellar-rpc.openrpc.json'), 'utf8'),
);
const ajv = new Ajv({ strict: false, allErrors: true });
type ResultSchema = { properties?: Record<string, object> };
/**
 * The one place the chain departs from the OpenRPC document on purpose. The document types
 * sendTransaction's `latestLedgerCloseTime` as a number, but stellar-rpc sends a decimal string
 * there, as for every other close time (SendTransactionResponse in stellar-rpc's
 * cmd/stellar-rpc/internal/methods/send_transaction.go: `json:"latestLedgerCloseTime,string"`).
 * The chain follows the server clients meet; the test pins that string instead of the number.
 */
const schemaOverrides: Record<string, (s: ResultSchema) => ResultSchema> = {
  sendTransaction: (s) => ({
    ...s,
    properties: { ...s.properties, latestLedgerCloseTime: { type: 'string', pattern: '^[0-9]+$' } },
  }),
};
const resultSchemas = new Map<string, ReturnType<typeof ajv.compile>>(
  openrpc.methods.map((m: { name: string; result: { schema: ResultSchema } }) => [
    m.name,
    ajv.compile(schemaOverrides[m.name]?.(m.result.schema) ?? m.result.schema),
  ]),
);

/** Calls a method raw and checks its result against the OpenRPC result schema. */
async function validated<T = RawResult>(url: string, method: string, params?: unknown): Promise<T> {
  const res = await rawRpc<T>(url, method, params);
  expect(res.error, `${method} failed: ${JSON.stringify(res.error)}`).toBeUndefined();
  const validate = resultSchemas.get(method)!;
  expect(validate(res.result), `${method}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return res.result as T;
}

let bin: string;
let chain: Localnet;
let server: rpc.Server;
let manifest: Manifest;
let platform: Keypair;

beforeAll(async () => {
  bin = localnetBinary();
  // 1 s ledgers: with the testnet P28 settings a persistent entry lives 10 ledgers at minimum,
  // and a simulated transaction must land before an entry it reads archives.
  chain = await startLocalnet(bin, { ledgerIntervalMs: 1000 });
  server = new rpc.Server(chain.url, { allowHttp: true });
  const dir = mkdtempSync(join(tmpdir(), 'starling-localnet-'));
  manifest = await deploy({
    rpcUrl: chain.url,
    network: 'local',
    wasmDir: join(repoRoot, 'contracts/build'),
    out: join(dir, 'local.json'),
    log: () => {},
  });
  platform = Keypair.fromSecret(manifest.platform.secret!);
}, 900_000);

afterAll(async () => {
  await chain?.stop();
});

function clientFor(name: keyof Manifest['contracts']): Promise<contract.Client> {
  return contract.Client.from({
    contractId: manifest.contracts[name].contractId,
    rpcUrl: chain.url,
    allowHttp: true,
    networkPassphrase: manifest.networkPassphrase,
    publicKey: platform.publicKey(),
    signTransaction: contract.basicNodeSigner(platform, manifest.networkPassphrase).signTransaction,
  });
}

describe('local chain through the SDK', () => {
  it('deploys, invokes every contract and serves their events page by page', async () => {
    const student = Keypair.random().publicKey();
    const course = Buffer.alloc(16, 7);
    const analytics = await clientFor('analytics');
    expect(
      await call(analytics, 'record_progress', {
        caller: platform.publicKey(),
        student,
        course_id: course,
        percent: 100,
      }),
    ).toBe(100);
    const certificate = await clientFor('certificate');
    const certId = await call(certificate, 'issue_credential', {
      issuer: platform.publicKey(),
      student,
      course_id: course,
      metadata_hash: Buffer.alloc(32, 9),
    });
    expect(certId).toBe(1n);
    const token = await clientFor('token');
    await call(token, 'mint_reward', {
      minter: platform.publicKey(),
      to: student,
      amount: 50_0000000n,
      reason: 'referral',
    });
    expect(await call(token, 'balance', { account: student })).toBe(50_0000000n);
    const governance = await clientFor('governance');
    const proposal = await call(governance, 'propose', {
      proposer: platform.publicKey(),
      title: 'More courses',
      description_hash: Buffer.alloc(32, 1),
      voting_period: 20,
    });
    expect(proposal).toBe(1n);

    // Page through our contracts' events two at a time; every event once, in id order.
    const contractIds = Object.values(manifest.contracts).map((c) => c.contractId);
    const names: string[] = [];
    const ids: string[] = [];
    let page = await server.getEvents({
      startLedger: manifest.ledger - 30 > 0 ? manifest.ledger - 30 : 1,
      filters: [{ type: 'contract', contractIds }],
      limit: 2,
    });
    for (let i = 0; i < 50; i++) {
      for (const e of page.events) {
        names.push(String(scValToNative(e.topic[0]!)));
        ids.push(e.id);
        expect(e.id).toMatch(/^\d{19}-\d{10}$/);
      }
      if (page.events.length < 2) break;
      page = await server.getEvents({
        cursor: page.cursor,
        filters: [{ type: 'contract', contractIds }],
        limit: 2,
      });
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const n of [
      'progress_recorded',
      'course_completed',
      'certificate_issued',
      'mint',
      'reward_minted',
      'proposal_created',
    ]) {
      expect(names).toContain(n);
    }
    expect(names.indexOf('progress_recorded')).toBeLessThan(names.indexOf('course_completed'));

    // Topic filter: only certificate_issued.
    const issued = await server.getEvents({
      startLedger: manifest.ledger,
      filters: [
        {
          contractIds: [manifest.contracts.certificate.contractId],
          topics: [[xdr.ScVal.scvSymbol('certificate_issued').toXDR('base64'), '**']],
        },
      ],
    });
    expect(issued.events.map((e) => String(scValToNative(e.topic[0]!)))).toEqual(['certificate_issued']);
  });

  it('lets the host enforce Soroban authorisation: an unsigned auth entry fails the transaction', async () => {
    const stranger = Keypair.random();
    expect(
      (await fetch(`${chain.url}/friendbot?addr=${stranger.publicKey()}`, { method: 'POST' })).status,
    ).toBe(200);
    const analyticsId = manifest.contracts.analytics.contractId;
    const analytics = await clientFor('analytics');
    await call(analytics, 'grant_role', {
      account: stranger.publicKey(),
      role: 'recorder',
      caller: platform.publicKey(),
    });
    const source = await server.getAccount(platform.publicKey());
    const draft = new TransactionBuilder(source, {
      fee: '100',
      networkPassphrase: manifest.networkPassphrase,
    })
      .addOperation(
        new Contract(analyticsId).call(
          'record_progress',
          new Address(stranger.publicKey()).toScVal(),
          new Address(Keypair.random().publicKey()).toScVal(),
          nativeToScVal(Buffer.alloc(16, 5)),
          nativeToScVal(10, { type: 'u32' }),
        ),
      )
      .setTimeout(30)
      .build();
    // Simulation records the stranger's auth entry; it is sent without the stranger's signature.
    const prepared = await server.prepareTransaction(draft);
    prepared.sign(platform);
    const sent = await validated<{ status: string; hash: string }>(chain.url, 'sendTransaction', {
      transaction: prepared.toXDR(),
    });
    expect(sent.status).toBe('PENDING');
    const done = await server.pollTransaction(sent.hash, { attempts: 50 });
    expect(done.status).toBe('FAILED');
    // The host refused the missing signature: txFAILED with the invocation trapped, as core says.
    const result = (done as rpc.Api.GetFailedTransactionResponse).resultXdr.result;
    expect(result.type).toBe('txFailed');
    const op = result.type === 'txFailed' ? result.results[0] : undefined;
    expect(op?.type).toBe('opInner');
    const tr = op?.type === 'opInner' ? op.tr : undefined;
    expect(tr?.type === 'invokeHostFunction' ? tr.invokeHostFunctionResult.type : tr?.type).toBe(
      'invokeHostFunctionTrapped',
    );
    const raw = await validated<TxResult>(chain.url, 'getTransaction', { hash: sent.hash });
    expect(raw.status).toBe('FAILED');
    expect(xdr.TransactionResult.fromXDR(raw.resultXdr!, 'base64').result.type).toBe('txFailed');

    // Signed by the stranger (AddressV2 credentials, nonce and expiry checked by the host), it lands.
    const student = Keypair.random().publicKey();
    const tx = (await (analytics as unknown as ContractMethods).record_progress!({
      caller: stranger.publicKey(),
      student,
      course_id: Buffer.alloc(16, 5),
      percent: 10,
    })) as contract.AssembledTransaction<number>;
    expect(tx.needsNonInvokerSigningBy()).toEqual([stranger.publicKey()]);
    await tx.signAuthEntries({
      address: stranger.publicKey(),
      signAuthEntry: contract.basicNodeSigner(stranger, manifest.networkPassphrase).signAuthEntry,
    });
    const landed = await tx.signAndSend();
    expect(landed.getTransactionResponse?.status).toBe('SUCCESS');
    expect(landed.result).toBe(10);
  });

  it('answers every method in the OpenRPC result shapes', async () => {
    const latest = await validated<{ sequence: number }>(chain.url, 'getLatestLedger');
    await validated(chain.url, 'getHealth');
    await validated(chain.url, 'getNetwork');
    await validated(chain.url, 'getVersionInfo');
    await validated(chain.url, 'getFeeStats');
    const events = await validated<EventsResult>(chain.url, 'getEvents', {
      startLedger: manifest.ledger - 5 > 0 ? manifest.ledger - 5 : 1,
      pagination: { limit: 5 },
    });
    expect(events.events.length).toBeGreaterThan(0);
    const txs = await validated<{ transactions: TxResult[] }>(chain.url, 'getTransactions', {
      startLedger: 1,
      pagination: { limit: 5 },
    });
    expect(txs.transactions.length).toBeGreaterThan(0);
    const tx = await validated<TxResult>(chain.url, 'getTransaction', { hash: txs.transactions[0]?.txHash });
    expect(tx.status).toBe('SUCCESS');
    await validated(chain.url, 'getLedgers', { startLedger: latest.sequence - 2, pagination: { limit: 2 } });
    const key = xdr.LedgerKey.account(new xdr.LedgerKeyAccount({ accountId: platform.xdrPublicKey() })).toXDR(
      'base64',
    );
    const entries = await validated<{ entries: unknown[] }>(chain.url, 'getLedgerEntries', { keys: [key] });
    expect(entries.entries).toHaveLength(1);
    const analytics = await clientFor('analytics');
    const read = (await (analytics as unknown as ContractMethods).get_progress!({
      student: platform.publicKey(),
      course_id: Buffer.alloc(16),
    })) as contract.AssembledTransaction<number>;
    const sim = await validated<{ transactionData?: string }>(chain.url, 'simulateTransaction', {
      transaction: read.built!.toXDR(),
    });
    expect(sim.transactionData).toBeTruthy();
    const missing = await validated<TxResult>(chain.url, 'getTransaction', { hash: 'ab'.repeat(32) });
    expect(missing.status).toBe('NOT_FOUND');
    const noSuchFn = new TransactionBuilder(await server.getAccount(platform.publicKey()), {
      fee: '100',
      networkPassphrase: manifest.networkPassphrase,
    })
      .addOperation(new Contract(manifest.contracts.analytics.contractId).call('no_such_function'))
      .setTimeout(30)
      .build();
    const simErr = await validated<{ error?: string; transactionData?: string }>(
      chain.url,
      'simulateTransaction',
      { transaction: noSuchFn.toXDR() },
    );
    expect(simErr.error).toBeTruthy();
    expect(simErr.transactionData).toBeUndefined();
  });

  it('refuses bad transactions and bad requests with the RPC errors', async () => {
    const account = await server.getAccount(platform.publicKey());
    const payTo = Keypair.random().publicKey();
    const make = (seq: string, passphrase: string) => {
      const acc = new Account(platform.publicKey(), seq);
      const tx = new TransactionBuilder(acc, { fee: '100', networkPassphrase: passphrase })
        .addOperation(Operation.createAccount({ destination: payTo, startingBalance: '10' }))
        .setTimeout(30)
        .build();
      tx.sign(platform);
      return tx;
    };
    const badSeqTx = make((BigInt(account.sequenceNumber()) + 5n).toString(), manifest.networkPassphrase);
    const rawBadSeq = await validated<{ status: string; errorResultXdr?: string }>(
      chain.url,
      'sendTransaction',
      { transaction: badSeqTx.toXDR() },
    );
    expect(rawBadSeq.status).toBe('ERROR');
    expect(rawBadSeq.errorResultXdr).toBeTruthy();
    // The SDK parses the same reply (the string close time included) unchanged.
    const badSeq = await server.sendTransaction(badSeqTx);
    expect(badSeq.status).toBe('ERROR');
    expect(Number(badSeq.latestLedgerCloseTime)).toBeGreaterThan(1_600_000_000);
    expect((badSeq.errorResult as unknown as { result: { type: string } }).result.type).toBe('txBadSeq');
    const wrongNetwork = await server.sendTransaction(make(account.sequenceNumber(), Networks.TESTNET));
    expect(wrongNetwork.status).toBe('ERROR');
    expect((wrongNetwork.errorResult as unknown as { result: { type: string } }).result.type).toBe(
      'txBadAuth',
    );

    expect((await rawRpc(chain.url, 'noSuchMethod')).error?.code).toBe(-32601);
    expect((await rawRpc(chain.url, 'sendTransaction', { transaction: 'AAAA' })).error).toEqual({
      code: -32602,
      message: 'invalid_xdr',
    });
    const big = await fetch(chain.url, { method: 'POST', body: 'x'.repeat(2 << 20) });
    expect(big.status).toBe(413);
    const garbage = await fetch(chain.url, { method: 'POST', body: '{nope' });
    expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(-32700);
    await expect(server.getEvents({ startLedger: 10_000_000, filters: [] })).rejects.toThrow(
      /startLedger must be within the ledger range/,
    );
    // The server is still healthy after all that.
    expect((await server.getHealth()).status).toBe('healthy');
  });
});

describe('retention and restarts', () => {
  it('forgets ledgers beyond the retention window and says so', async () => {
    const short = await startLocalnet(bin, { ledgerIntervalMs: 50, retentionLedgers: 5 });
    try {
      const s = new rpc.Server(short.url, { allowHttp: true });
      let health = await s.getHealth();
      while (health.latestLedger < 12) {
        await new Promise((r) => setTimeout(r, 100));
        health = await s.getHealth();
      }
      expect(health.ledgerRetentionWindow).toBe(5);
      expect(health.latestLedger - health.oldestLedger).toBe(4);
      const res = await rawRpc(short.url, 'getEvents', { startLedger: 1 });
      expect(res.error?.code).toBe(-32600);
      expect(res.error?.message).toMatch(/^startLedger must be within the ledger range: \d+ - \d+$/);
      const txs = await rawRpc(short.url, 'getTransactions', { startLedger: 1 });
      expect(txs.error?.code).toBe(-32600);
      expect(txs.error?.message).toMatch(
        /^start ledger must be between the oldest ledger: \d+ and the latest ledger: \d+ for this rpc instance$/,
      );
    } finally {
      await short.stop();
    }
  });

  it('keeps its state across a restart with --state-file', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'starling-state-')), 'chain.bin');
    const first = await startLocalnet(bin, { ledgerIntervalMs: 100, stateFile });
    const kp = Keypair.random();
    let before: number;
    try {
      const s = new rpc.Server(first.url, { allowHttp: true });
      // The SDK's own friendbot client reads the created account from the reply's meta.
      const funded = await s.requestAirdrop(kp.publicKey());
      expect(BigInt(funded.sequenceNumber())).toBeGreaterThan(0n);
      before = (await s.getLatestLedger()).sequence;
    } finally {
      await first.stop();
    }
    // A minute per ledger: the payment below is still PENDING when the chain is stopped.
    const second = await startLocalnet(bin, { ledgerIntervalMs: 60_000, stateFile });
    const payee = Keypair.random().publicKey();
    let pendingHash: string;
    try {
      const s = new rpc.Server(second.url, { allowHttp: true });
      const acc = await s.getAccount(kp.publicKey());
      expect(BigInt(acc.sequenceNumber())).toBeGreaterThan(0n);
      expect((await s.getLatestLedger()).sequence).toBeGreaterThanOrEqual(before);
      const again = await fetch(`${second.url}/friendbot?addr=${kp.publicKey()}`);
      expect(again.status).toBe(400);
      const { passphrase } = await s.getNetwork();
      const pay = new TransactionBuilder(acc, { fee: '100', networkPassphrase: passphrase })
        .addOperation(Operation.createAccount({ destination: payee, startingBalance: '5' }))
        .setTimeout(120)
        .build();
      pay.sign(kp);
      const sent = await s.sendTransaction(pay);
      expect(sent.status).toBe('PENDING');
      pendingHash = sent.hash;
      expect((await s.getTransaction(pendingHash)).status).toBe('NOT_FOUND');
    } finally {
      await second.stop();
    }
    // Stopping applied the accepted transaction in a last ledger before saving.
    const third = await startLocalnet(bin, { ledgerIntervalMs: 100, stateFile });
    try {
      const s = new rpc.Server(third.url, { allowHttp: true });
      expect((await s.getTransaction(pendingHash)).status).toBe('SUCCESS');
      expect((await s.getAccount(payee)).accountId()).toBe(payee);
    } finally {
      await third.stop();
    }
  });
});

describe('ledger timing and other networks', () => {
  it('closes ledgers on the configured interval', async () => {
    const fast = await startLocalnet(bin, { ledgerIntervalMs: 200 });
    try {
      const s = new rpc.Server(fast.url, { allowHttp: true });
      const first = (await s.getLatestLedger()).sequence;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      const last = (await s.getLatestLedger()).sequence;
      const elapsed = Date.now() - t0;
      // Loose bounds for a loaded machine: at least half the expected ledgers, never twice as many.
      expect(last - first).toBeGreaterThanOrEqual(5);
      expect(last - first).toBeLessThan((2 * elapsed) / 200);
      const page = await validated<{ ledgers: { sequence: number; ledgerCloseTime: string }[] }>(
        fast.url,
        'getLedgers',
        { startLedger: first, pagination: { limit: 200 } },
      );
      const times = page.ledgers.filter((l) => l.sequence <= last).map((l) => Number(l.ledgerCloseTime));
      expect(times).toHaveLength(last - first + 1);
      // Close times are whole seconds: they never go back and span about the elapsed time.
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(times.at(-1)! - times[0]!).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
    } finally {
      await fast.stop();
    }
  });

  it('deploys with the testnet path: a given funded key, no friendbot, no secret written', async () => {
    const testnet = await startLocalnet(bin, { ledgerIntervalMs: 1000, passphrase: Networks.TESTNET });
    try {
      const s = new rpc.Server(testnet.url, { allowHttp: true });
      const kp = Keypair.random();
      expect((await s.fundAddress(kp.publicKey())).status).toBe('SUCCESS');
      const out = join(mkdtempSync(join(tmpdir(), 'starling-testnet-')), 'testnet.json');
      const m = await deploy({
        rpcUrl: testnet.url,
        network: 'testnet',
        secret: kp.secret(),
        fund: false,
        wasmDir: join(repoRoot, 'contracts/build'),
        out,
        log: () => {},
      });
      const written = readFileSync(out, 'utf8');
      const onDisk = JSON.parse(written) as Manifest;
      expect(onDisk.network).toBe('testnet');
      expect(onDisk.networkPassphrase).toBe(Networks.TESTNET);
      expect(onDisk.platform).toEqual({ publicKey: kp.publicKey() });
      expect(written).not.toContain(kp.secret());
      expect(Object.keys(onDisk.contracts).sort()).toEqual([
        'analytics',
        'certificate',
        'governance',
        'token',
      ]);
      for (const c of Object.values(onDisk.contracts)) expect(c.contractId).toMatch(/^C[A-Z2-7]{55}$/);
      expect(onDisk.contracts).toEqual(m.contracts);
      const certificate = await contract.Client.from({
        contractId: onDisk.contracts.certificate.contractId,
        rpcUrl: testnet.url,
        allowHttp: true,
        networkPassphrase: Networks.TESTNET,
      });
      expect(certificate.spec.funcs().length).toBeGreaterThan(0);
    } finally {
      await testnet.stop();
    }
  }, 300_000);
});
