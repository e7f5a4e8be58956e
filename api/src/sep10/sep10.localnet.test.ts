// SEP-10 against the local Stellar chain (contracts/localnet): the account lookup reads a real
// AccountEntry through Stellar RPC's getLedgerEntries. The chain applies only CreateAccount and
// Payment, so multi-signature accounts cannot be set up on it; sep10.test.ts covers those with
// account entries served over JSON-RPC.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair, TransactionBuilder, type Transaction } from '@stellar/stellar-sdk';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import { createRpcAccountLoader } from './sep10.service.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

/** The release binary: LOCALNET_BIN, else built (or reused from cargo's cache) by the build script. */
function localnetBinary(): string {
  if (process.env.LOCALNET_BIN) return process.env.LOCALNET_BIN;
  const built = spawnSync('bash', [join(repoRoot, 'ops/scripts/build-localnet.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error('ops/scripts/build-localnet.sh failed');
  return built.stdout.trim().split('\n').pop()!;
}

function startLocalnet(bin: string, passphrase: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    bin,
    ['--port', '0', '--ledger-interval-ms', '200', '--network-passphrase', passphrase],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`localnet did not start: ${out}`)), 20_000);
    child.once('exit', (code) => fail(new Error(`localnet exited with ${code}: ${out}`)));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /localnet listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        done({ url: m[1]!, child });
      }
    });
  });
}

let chain: { url: string; child: ChildProcess };
let t: TestApp;
const funded = Keypair.random();
const unfunded = Keypair.random();

beforeAll(async () => {
  const bin = localnetBinary();
  chain = await startLocalnet(bin, 'Standalone Network ; February 2017');
  t = await buildTestApp({ env: { STELLAR_RPC_URL: chain.url } });
  expect(t.config.STELLAR_NETWORK_PASSPHRASE).toBe('Standalone Network ; February 2017');
  const res = await fetch(`${chain.url}/friendbot?addr=${funded.publicKey()}`);
  expect(res.ok).toBe(true);
  // The account exists once the next ledger closes.
  const load = createRpcAccountLoader(chain.url);
  for (let i = 0; i < 100 && !(await load(funded.publicKey())); i++)
    await new Promise((r) => setTimeout(r, 100));
}, 900_000);

afterAll(async () => {
  await t?.close();
  if (chain && chain.child.exitCode === null) {
    await new Promise<void>((done) => {
      chain.child.once('exit', () => done());
      chain.child.kill('SIGTERM');
    });
  }
});

async function signIn(account: Keypair, signers: Keypair[]) {
  const challenge = await t.app.inject({ url: `/v1/auth/stellar?account=${account.publicKey()}` });
  expect(challenge.statusCode).toBe(200);
  const tx = TransactionBuilder.fromXDR(
    challenge.json().transaction,
    t.config.STELLAR_NETWORK_PASSPHRASE,
  ) as Transaction;
  tx.sign(...signers);
  return t.app.inject({ method: 'POST', url: '/v1/auth/stellar', payload: { transaction: tx.toXDR() } });
}

describe('SEP-10 with accounts on the local chain', () => {
  it('reads the signers and thresholds of an on-chain account, and null for one that does not exist', async () => {
    const load = createRpcAccountLoader(chain.url);
    // A freshly created account: master key weight 1, every threshold 0.
    expect(await load(funded.publicKey())).toEqual({
      mediumThreshold: 0,
      signers: [{ key: funded.publicKey(), weight: 1 }],
    });
    expect(await load(unfunded.publicKey())).toBeNull();
  });

  it('signs in an on-chain account with its master key, and refuses any other key', async () => {
    const wrong = await signIn(funded, [Keypair.random()]);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_signature');
    const ok = await signIn(funded, [funded]);
    expect(ok.statusCode).toBe(200);
    const user = await t.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', ok.json().user_id)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({ stellar_address: funded.publicKey(), wallet_kind: 'external' });
  });

  it('signs in an account that is not on chain with its master key', async () => {
    expect((await signIn(unfunded, [funded])).statusCode).toBe(401);
    expect((await signIn(unfunded, [unfunded])).statusCode).toBe(200);
  });
});
