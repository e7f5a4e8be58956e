// SEP-10 wallet sign-in and linking against real Postgres and Redis, with @stellar/stellar-sdk as the
// client. Negative cases assert the specific refusal, so each fails if the rule it names is removed.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as OTPAuth from 'otpauth';
import pino from 'pino';
import {
  Account,
  BASE_FEE,
  Keypair,
  Networks,
  Operation,
  Transaction,
  TransactionBuilder,
  WebAuth,
  xdr,
  type xdr as XdrTypes,
} from '@stellar/stellar-sdk';
import {
  SEP10_KEYPAIR,
  bearer,
  buildTestApp,
  countRows,
  registerUser,
  testEnv,
  type TestApp,
} from '../test/harness.ts';
import { buildApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createContext } from '../context.ts';

const HOME = 'starling.test';
const WEB_AUTH = 'api.starling.test';

let t: TestApp;
let passphrase: string;
beforeAll(async () => {
  // Many sign-ins from one address in a minute; the limit itself is tested on its own app below.
  t = await buildTestApp({ env: { RATE_LIMIT_AUTH_MAX: '10000' } });
  passphrase = t.config.STELLAR_NETWORK_PASSPHRASE;
});
afterAll(async () => t.close());

async function getChallenge(
  app: App,
  account: string,
  url = '/v1/auth/stellar',
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await app.inject({ url: `${url}?account=${account}`, headers });
  if (res.statusCode !== 200) throw new Error(`challenge failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { transaction: string }).transaction;
}

function sign(envelope: string, signers: Keypair[], networkPassphrase = passphrase): string {
  const tx = TransactionBuilder.fromXDR(envelope, networkPassphrase) as Transaction;
  tx.sign(...signers);
  return tx.toXDR();
}

const postSignIn = (app: App, transaction: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/stellar', payload: { transaction } });
const postLink = (app: App, transaction: string, access: string) =>
  app.inject({ method: 'POST', url: '/v1/me/wallet', payload: { transaction }, headers: bearer(access) });

const newNonce = (): string => randomBytes(48).toString('base64');
const now = (): number => Math.floor(Date.now() / 1000);

interface CraftOptions {
  account: string;
  server?: Keypair;
  source?: string;
  sequence?: string;
  nonce?: string;
  minTime?: number;
  maxTime?: number;
  homeDomain?: string;
  webAuthDomain?: string;
  extraOps?: XdrTypes.Operation[];
  serverSignatures?: number;
  networkPassphrase?: string;
}

/** Builds a challenge the way a server would, varying one thing at a time. */
function craft(o: CraftOptions): { envelope: string; nonce: string } {
  const server = o.server ?? SEP10_KEYPAIR;
  const nonce = o.nonce ?? newNonce();
  const builder = new TransactionBuilder(new Account(o.source ?? server.publicKey(), o.sequence ?? '-1'), {
    fee: BASE_FEE,
    networkPassphrase: o.networkPassphrase ?? passphrase,
    timebounds: { minTime: o.minTime ?? now(), maxTime: o.maxTime ?? now() + 300 },
  })
    .addOperation(
      Operation.manageData({ name: `${o.homeDomain ?? HOME} auth`, value: nonce, source: o.account }),
    )
    .addOperation(
      Operation.manageData({
        name: 'web_auth_domain',
        value: o.webAuthDomain ?? WEB_AUTH,
        source: server.publicKey(),
      }),
    );
  for (const op of o.extraOps ?? []) builder.addOperation(op);
  const tx = builder.build();
  for (let i = 0; i < (o.serverSignatures ?? 1); i += 1) tx.sign(server);
  return { envelope: tx.toXDR(), nonce };
}

/** Stores a nonce as if this server had issued it, so a crafted challenge fails only for what it varies. */
async function storeNonce(
  nonce: string,
  account: string,
  opts: { purpose?: 'login' | 'link'; userId?: string | null; expiresAt?: Date } = {},
): Promise<void> {
  await t.ctx.db
    .insertInto('sep10_challenges')
    .values({
      nonce,
      account,
      purpose: opts.purpose ?? 'login',
      user_id: opts.userId ?? null,
      expires_at: opts.expiresAt ?? new Date(Date.now() + 300_000),
    })
    .execute();
}

async function expectRefused(
  res: { statusCode: number; json(): unknown; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(res.json()).toMatchObject({ code, status });
}

async function signInWith(
  account: Keypair,
): Promise<{ user_id: string; access_token: string; refresh_token: string }> {
  const res = await postSignIn(t.app, sign(await getChallenge(t.app, account.publicKey()), [account]));
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

describe('the challenge', () => {
  it('follows SEP-10: sequence 0, server source, bounded time, a 48-byte nonce from the client, web_auth_domain, one server signature', async () => {
    const client = Keypair.random();
    const res = await t.app.inject({ url: `/v1/auth/stellar?account=${client.publicKey()}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().network_passphrase).toBe(passphrase);
    const tx = new Transaction(res.json().transaction, passphrase);
    expect(tx.sequence).toBe('0');
    expect(tx.source).toBe(SEP10_KEYPAIR.publicKey());
    const { minTime, maxTime } = tx.timeBounds!;
    expect(Number(maxTime) - Number(minTime)).toBeLessThanOrEqual(
      Math.min(900, t.config.SEP10_CHALLENGE_TTL_SECONDS),
    );
    expect(Number(maxTime)).toBeGreaterThan(now());
    const [first, second, ...rest] = tx.operations;
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ type: 'manageData', name: `${HOME} auth`, source: client.publicKey() });
    const nonce = Buffer.from((first as { value: Uint8Array }).value).toString('latin1');
    expect(nonce).toHaveLength(64);
    expect(Buffer.from(nonce, 'base64')).toHaveLength(48);
    expect(second).toMatchObject({
      type: 'manageData',
      name: 'web_auth_domain',
      source: SEP10_KEYPAIR.publicKey(),
    });
    expect(Buffer.from((second as { value: Uint8Array }).value).toString()).toBe(WEB_AUTH);
    expect(tx.signatures).toHaveLength(1);
    expect(WebAuth.verifyTxSignedBy(tx, SEP10_KEYPAIR.publicKey())).toBe(true);
    const stored = await t.ctx.db
      .selectFrom('sep10_challenges')
      .selectAll()
      .where('nonce', '=', nonce)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({
      account: client.publicKey(),
      purpose: 'login',
      user_id: null,
      consumed_at: null,
    });
    expect(stored.expires_at.getTime()).toBe(Number(maxTime) * 1000);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('is rate limited like the other auth routes, for sign-in and linking alike', async () => {
    const limited = await buildTestApp({ env: { RATE_LIMIT_AUTH_MAX: '2' } });
    try {
      const learner = await registerUser(limited.app);
      for (const [method, url] of [
        ['GET', `/v1/auth/stellar?account=${Keypair.random().publicKey()}`],
        ['POST', '/v1/auth/stellar'],
        ['GET', `/v1/me/wallet/challenge?account=${Keypair.random().publicKey()}`],
        ['POST', '/v1/me/wallet'],
      ] as const) {
        const send = () =>
          limited.app.inject({
            method,
            url,
            headers: bearer(learner.access),
            ...(method === 'POST' ? { payload: { transaction: 'AAAA' } } : {}),
          });
        const first = await send();
        expect(first.headers['ratelimit-limit']).toBe('2');
        await send();
        await expectRefused(await send(), 429, 'rate_limited');
      }
    } finally {
      await limited.close();
    }
  });

  it('refuses an invalid address (bad checksum) with a 400 naming the field', async () => {
    const good = Keypair.random().publicKey();
    const bad = `${good.slice(0, 55)}${good.endsWith('A') ? 'B' : 'A'}`;
    const res = await t.app.inject({ url: `/v1/auth/stellar?account=${bad}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'account' });
    const missing = await t.app.inject({ url: '/v1/auth/stellar' });
    expect(missing.statusCode).toBe(400);
  });

  it('takes SEP-10’s home_domain when it names this server, and refuses another or a client_domain', async () => {
    const account = Keypair.random().publicKey();
    const ok = await t.app.inject({ url: `/v1/auth/stellar?account=${account}&home_domain=${HOME}` });
    expect(ok.statusCode).toBe(200);
    const other = await t.app.inject({ url: `/v1/auth/stellar?account=${account}&home_domain=evil.test` });
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ code: 'invalid_home_domain', field: 'home_domain' });
    const withClient = await t.app.inject({
      url: `/v1/auth/stellar?account=${account}&client_domain=wallet.example`,
    });
    expect(withClient.statusCode).toBe(400);
    expect(withClient.json()).toMatchObject({ code: 'client_domain_unsupported', field: 'client_domain' });
    const withMemo = await t.app.inject({ url: `/v1/auth/stellar?account=${account}&memo=42` });
    expect(withMemo.statusCode).toBe(400);
  });
});

describe('sign-in', () => {
  it('creates a wallet learner on first sign-in and returns the same user the second time', async () => {
    const wallet = Keypair.random();
    const usersBefore = await countRows(t.ctx, 'users');
    const first = await signInWith(wallet);
    expect(first).toMatchObject({ token_type: 'Bearer' });
    const user = await t.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', first.user_id)
      .executeTakeFirstOrThrow();
    const a = wallet.publicKey();
    expect(user).toMatchObject({
      stellar_address: a,
      wallet_kind: 'external',
      email: null,
      password_hash: null,
      role: 'learner',
      display_name: `Stellar ${a.slice(0, 4)}…${a.slice(-4)}`,
    });
    expect(user.referral_code).toMatch(/^[A-Z2-9]{8}$/);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', user.id)
      .orderBy('id')
      .execute();
    expect(audit.map((e) => e.action)).toEqual(['user.registered', 'user.logged_in']);
    expect(audit[0]!.data).toMatchObject({ method: 'sep10', stellar_address: a });

    const me = await t.app.inject({ url: '/v1/me', headers: bearer(first.access_token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      id: user.id,
      stellar_address: a,
      wallet_kind: 'external',
      email: null,
    });

    const second = await signInWith(wallet);
    expect(second.user_id).toBe(first.user_id);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await countRows(t.ctx, 'users')).toBe(usersBefore + 1);
  });

  it('accepts a challenge built like the server’s and stored (the control for the crafted cases below)', async () => {
    const client = Keypair.random();
    const { envelope, nonce } = craft({ account: client.publicKey() });
    await storeNonce(nonce, client.publicKey());
    const res = await postSignIn(t.app, sign(envelope, [client]));
    expect(res.statusCode).toBe(200);
  });

  it('gives at most one session per challenge: a replay is refused and issues nothing', async () => {
    const client = Keypair.random();
    const signed = sign(await getChallenge(t.app, client.publicKey()), [client]);
    expect((await postSignIn(t.app, signed)).statusCode).toBe(200);
    const sessions = await countRows(t.ctx, 'refresh_tokens');
    const audit = await countRows(t.ctx, 'audit_log');
    await expectRefused(await postSignIn(t.app, signed), 401, 'challenge_used');
    expect(await countRows(t.ctx, 'refresh_tokens')).toBe(sessions);
    expect(await countRows(t.ctx, 'audit_log')).toBe(audit);
  });

  it('consumes a nonce once even when the same signed challenge arrives concurrently', async () => {
    const client = Keypair.random();
    const signed = sign(await getChallenge(t.app, client.publicKey()), [client]);
    const sessions = await countRows(t.ctx, 'refresh_tokens');
    const results = await Promise.all(Array.from({ length: 6 }, () => postSignIn(t.app, signed)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 401, 401, 401, 401, 401]);
    expect(await countRows(t.ctx, 'refresh_tokens')).toBe(sessions + 1);
    expect(
      await t.ctx.db
        .selectFrom('users')
        .select('id')
        .where('stellar_address', '=', client.publicKey())
        .execute(),
    ).toHaveLength(1);
  });

  it('refuses a tampered challenge: changing the nonce invalidates the server signature', async () => {
    const client = Keypair.random();
    const envelope = await getChallenge(t.app, client.publicKey());
    const tx = new Transaction(envelope, passphrase);
    const nonce = Buffer.from((tx.operations[0] as { value: Uint8Array }).value);
    const raw = Buffer.from(envelope, 'base64');
    const at = raw.indexOf(nonce);
    expect(at).toBeGreaterThan(0);
    const forged = newNonce();
    Buffer.from(forged, 'latin1').copy(raw, at);
    await storeNonce(forged, client.publicKey());
    const tampered = sign(raw.toString('base64'), [client]);
    await expectRefused(await postSignIn(t.app, tampered), 401, 'invalid_server_signature');
  });

  it('refuses a challenge without a server signature, with two, or built by another server key', async () => {
    const client = Keypair.random();
    for (const serverSignatures of [0, 2]) {
      const { envelope, nonce } = craft({ account: client.publicKey(), serverSignatures });
      await storeNonce(nonce, client.publicKey());
      await expectRefused(await postSignIn(t.app, sign(envelope, [client])), 401, 'invalid_server_signature');
    }
    // Our account as source, signed by an impostor key.
    const impostor = Keypair.random();
    const { envelope, nonce } = craft({
      account: client.publicKey(),
      server: impostor,
      source: SEP10_KEYPAIR.publicKey(),
    });
    await storeNonce(nonce, client.publicKey());
    await expectRefused(await postSignIn(t.app, sign(envelope, [client])), 401, 'invalid_server_signature');
    // Another server's own challenge, as its SDK builds it.
    const other = WebAuth.buildChallengeTx(impostor, client.publicKey(), HOME, 300, passphrase, WEB_AUTH);
    await expectRefused(await postSignIn(t.app, sign(other, [client])), 401, 'invalid_challenge');
  });

  it('refuses an expired challenge with no grace period (the SDK alone would allow 5 minutes)', async () => {
    const client = Keypair.random();
    const { envelope, nonce } = craft({
      account: client.publicKey(),
      minTime: now() - 120,
      maxTime: now() - 5,
    });
    await storeNonce(nonce, client.publicKey());
    await expectRefused(await postSignIn(t.app, sign(envelope, [client])), 401, 'challenge_expired');
  });

  it('refuses a challenge whose stored nonce has expired', async () => {
    const client = Keypair.random();
    const signed = sign(await getChallenge(t.app, client.publicKey()), [client]);
    const nonce = Buffer.from(
      (new Transaction(signed, passphrase).operations[0] as { value: Uint8Array }).value,
    ).toString('latin1');
    await t.ctx.db
      .updateTable('sep10_challenges')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('nonce', '=', nonce)
      .execute();
    await expectRefused(await postSignIn(t.app, signed), 401, 'challenge_expired');
  });

  it.each([
    ['infinite time bounds', { minTime: 0, maxTime: 0 }],
    [
      'time bounds longer than the challenge lifetime',
      { maxTime: 0 + 10_000 + Math.floor(Date.now() / 1000) },
    ],
    [
      'time bounds not yet valid',
      { minTime: Math.floor(Date.now() / 1000) + 120, maxTime: Math.floor(Date.now() / 1000) + 300 },
    ],
    ['a non-zero sequence number', { sequence: '41' }],
    ['a wrong home domain', { homeDomain: 'evil.test' }],
    ['a wrong web_auth_domain', { webAuthDomain: 'evil.test' }],
    ['an extra non-ManageData operation', { extraOps: [Operation.bumpSequence({ bumpTo: '1' })] }],
    ['an extra ManageData operation', { extraOps: [Operation.manageData({ name: 'extra', value: 'x' })] }],
  ] as [string, Partial<CraftOptions>][])('refuses a challenge with %s', async (_name, variant) => {
    const client = Keypair.random();
    const { envelope, nonce } = craft({ account: client.publicKey(), ...variant });
    await storeNonce(nonce, client.publicKey());
    await expectRefused(await postSignIn(t.app, sign(envelope, [client])), 401, 'invalid_challenge');
  });

  it('refuses a challenge carrying a client_domain operation (not supported)', async () => {
    const client = Keypair.random();
    const domainKey = Keypair.random();
    const envelope = WebAuth.buildChallengeTx(
      SEP10_KEYPAIR,
      client.publicKey(),
      HOME,
      300,
      passphrase,
      WEB_AUTH,
      null,
      'wallet.example',
      domainKey.publicKey(),
    );
    const nonce = Buffer.from(
      (new Transaction(envelope, passphrase).operations[0] as { value: Uint8Array }).value,
    ).toString('latin1');
    await storeNonce(nonce, client.publicKey());
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [client, domainKey])),
      401,
      'client_domain_unsupported',
    );
  });

  it('refuses a challenge the client did not sign, or signed with another key, or with an extra or duplicate signature', async () => {
    const client = Keypair.random();
    const envelope = await getChallenge(t.app, client.publicKey());
    await expectRefused(await postSignIn(t.app, envelope), 401, 'invalid_signature');
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [Keypair.random()])),
      401,
      'invalid_signature',
    );
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [client, Keypair.random()])),
      401,
      'invalid_signature',
    );
    await expectRefused(await postSignIn(t.app, sign(envelope, [client, client])), 401, 'invalid_signature');
    expect(
      await t.ctx.db
        .selectFrom('users')
        .select('id')
        .where('stellar_address', '=', client.publicKey())
        .execute(),
    ).toEqual([]);
  });

  it('refuses a client signature made for another network', async () => {
    const client = Keypair.random();
    const envelope = await getChallenge(t.app, client.publicKey());
    const otherNetwork = passphrase === Networks.TESTNET ? Networks.PUBLIC : Networks.TESTNET;
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [client], otherNetwork)),
      401,
      'invalid_signature',
    );
  });

  it('refuses a challenge built for another network', async () => {
    const client = Keypair.random();
    const other = passphrase === Networks.TESTNET ? Networks.PUBLIC : Networks.TESTNET;
    const { envelope, nonce } = craft({ account: client.publicKey(), networkPassphrase: other });
    await storeNonce(nonce, client.publicKey());
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [client], other)),
      401,
      'invalid_server_signature',
    );
  });

  it('refuses nonces it never issued, issued for another account, or issued for linking', async () => {
    const client = Keypair.random();
    const never = craft({ account: client.publicKey() });
    await expectRefused(await postSignIn(t.app, sign(never.envelope, [client])), 401, 'unknown_challenge');

    const otherAccount = craft({ account: client.publicKey() });
    await storeNonce(otherAccount.nonce, Keypair.random().publicKey());
    await expectRefused(
      await postSignIn(t.app, sign(otherAccount.envelope, [client])),
      401,
      'unknown_challenge',
    );
  });

  it('does not burn the nonce on a failed attempt: a bad signature, then the right one, succeeds', async () => {
    const client = Keypair.random();
    const envelope = await getChallenge(t.app, client.publicKey());
    await expectRefused(
      await postSignIn(t.app, sign(envelope, [Keypair.random()])),
      401,
      'invalid_signature',
    );
    const ok = await postSignIn(t.app, sign(envelope, [client]));
    expect(ok.statusCode).toBe(200);
  });

  it('asks for the MFA code when the wallet user has MFA on, and the challenge is then used up', async () => {
    const wallet = Keypair.random();
    const { access_token } = await signInWith(wallet);
    const setup = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/setup',
      headers: bearer(access_token),
    });
    const totp = new OTPAuth.TOTP({
      secret: OTPAuth.Secret.fromBase32(setup.json().secret),
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    });
    const enable = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/enable',
      headers: bearer(access_token),
      payload: { code: totp.generate() },
    });
    expect(enable.statusCode).toBe(200);

    const signed = sign(await getChallenge(t.app, wallet.publicKey()), [wallet]);
    const sessions = await countRows(t.ctx, 'refresh_tokens');
    const res = await postSignIn(t.app, signed);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ mfa_required: true, mfa_token: expect.any(String) });
    expect(await countRows(t.ctx, 'refresh_tokens')).toBe(sessions);
    await expectRefused(await postSignIn(t.app, signed), 401, 'challenge_used');
  });

  it('never signs in with a custodial address', async () => {
    const { userId } = await registerUser(t.app);
    const user = await t.ctx.db
      .selectFrom('users')
      .select('stellar_address')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    // Only the server holds a custodial key; stand in for a leak by adopting the address in a crafted challenge.
    const impostor = Keypair.random();
    await t.ctx.db
      .updateTable('users')
      .set({ stellar_address: impostor.publicKey() })
      .where('id', '=', userId)
      .execute();
    await t.ctx.db
      .updateTable('custodial_wallets')
      .set({ public_key: impostor.publicKey() })
      .where('user_id', '=', userId)
      .execute();
    const res = await postSignIn(t.app, sign(await getChallenge(t.app, impostor.publicKey()), [impostor]));
    await expectRefused(res, 403, 'custodial_wallet');
    expect(user.stellar_address).not.toBe(impostor.publicKey());
  });
});

describe('linking a wallet', () => {
  it('links a proven wallet, keeps the custodial one, and the wallet then signs in to the same account', async () => {
    const learner = await registerUser(t.app);
    const before = await t.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    const wallet = Keypair.random();
    const envelope = await getChallenge(
      t.app,
      wallet.publicKey(),
      '/v1/me/wallet/challenge',
      bearer(learner.access),
    );
    const stored = await t.ctx.db
      .selectFrom('sep10_challenges')
      .selectAll()
      .where('account', '=', wallet.publicKey())
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ purpose: 'link', user_id: learner.userId });

    const res = await postLink(t.app, sign(envelope, [wallet]), learner.access);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ stellar_address: wallet.publicKey(), wallet_kind: 'external' });
    const me = (await t.app.inject({ url: '/v1/me', headers: bearer(learner.access) })).json();
    expect(me).toMatchObject({
      stellar_address: wallet.publicKey(),
      wallet_kind: 'external',
      email: learner.email,
    });
    const custodial = await t.ctx.db
      .selectFrom('custodial_wallets')
      .selectAll()
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(custodial.public_key).toBe(before.stellar_address);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', learner.userId)
      .where('action', '=', 'user.wallet_linked')
      .executeTakeFirstOrThrow();
    expect(audit.data).toMatchObject({
      from: before.stellar_address,
      from_kind: 'custodial',
      to: wallet.publicKey(),
    });
    expect(audit.actor_id).toBe(learner.userId);

    const session = await signInWith(wallet);
    expect(session.user_id).toBe(learner.userId);
  });

  it('needs a signed-in user and a signature: an unsigned or wrongly signed link challenge changes nothing', async () => {
    const learner = await registerUser(t.app);
    const wallet = Keypair.random();
    expect(
      (await t.app.inject({ url: `/v1/me/wallet/challenge?account=${wallet.publicKey()}` })).statusCode,
    ).toBe(401);
    const envelope = await getChallenge(
      t.app,
      wallet.publicKey(),
      '/v1/me/wallet/challenge',
      bearer(learner.access),
    );
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/me/wallet',
          payload: { transaction: sign(envelope, [wallet]) },
        })
      ).statusCode,
    ).toBe(401);
    await expectRefused(await postLink(t.app, envelope, learner.access), 400, 'invalid_signature');
    await expectRefused(
      await postLink(t.app, sign(envelope, [Keypair.random()]), learner.access),
      400,
      'invalid_signature',
    );
    const row = await t.ctx.db
      .selectFrom('users')
      .select(['wallet_kind'])
      .where('id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(row.wallet_kind).toBe('custodial');
    // The failed attempts did not burn the challenge.
    expect((await postLink(t.app, sign(envelope, [wallet]), learner.access)).statusCode).toBe(200);
  });

  it('refuses an address that belongs to another user with 409, at challenge time and at link time', async () => {
    const owner = await registerUser(t.app);
    const other = await registerUser(t.app);
    const wallet = Keypair.random();
    // The other user fetches a challenge while the address is still free…
    const early = await getChallenge(
      t.app,
      wallet.publicKey(),
      '/v1/me/wallet/challenge',
      bearer(other.access),
    );
    // …then the owner links it first.
    const mine = await getChallenge(
      t.app,
      wallet.publicKey(),
      '/v1/me/wallet/challenge',
      bearer(owner.access),
    );
    expect((await postLink(t.app, sign(mine, [wallet]), owner.access)).statusCode).toBe(200);

    await expectRefused(await postLink(t.app, sign(early, [wallet]), other.access), 409, 'wallet_taken');
    const late = await t.app.inject({
      url: `/v1/me/wallet/challenge?account=${wallet.publicKey()}`,
      headers: bearer(other.access),
    });
    await expectRefused(late, 409, 'wallet_taken');
    const otherRow = await t.ctx.db
      .selectFrom('users')
      .select(['stellar_address', 'wallet_kind'])
      .where('id', '=', other.userId)
      .executeTakeFirstOrThrow();
    expect(otherRow.wallet_kind).toBe('custodial');

    // A wallet-only learner's address is taken too.
    const walletUser = Keypair.random();
    await signInWith(walletUser);
    const taken = await t.app.inject({
      url: `/v1/me/wallet/challenge?account=${walletUser.publicKey()}`,
      headers: bearer(other.access),
    });
    await expectRefused(taken, 409, 'wallet_taken');
  });

  it('keeps sign-in and link challenges apart, and a link challenge bound to its user', async () => {
    const learner = await registerUser(t.app);
    const other = await registerUser(t.app);
    const wallet = Keypair.random();

    const link = sign(
      await getChallenge(t.app, wallet.publicKey(), '/v1/me/wallet/challenge', bearer(learner.access)),
      [wallet],
    );
    await expectRefused(await postSignIn(t.app, link), 401, 'unknown_challenge');
    await expectRefused(await postLink(t.app, link, other.access), 400, 'unknown_challenge');

    const login = sign(await getChallenge(t.app, wallet.publicKey()), [wallet]);
    await expectRefused(await postLink(t.app, login, learner.access), 400, 'unknown_challenge');

    expect(
      await t.ctx.db
        .selectFrom('users')
        .select('id')
        .where('stellar_address', '=', wallet.publicKey())
        .execute(),
    ).toEqual([]);
    // Neither was burned by the misuse.
    expect((await postLink(t.app, link, learner.access)).statusCode).toBe(200);
    const session = await postSignIn(t.app, login);
    expect(session.statusCode).toBe(200);
    expect(session.json().user_id).toBe(learner.userId);
  });
});

/** A Stellar RPC stand-in that answers getLedgerEntries from a fixed set of account entries. */
async function startFakeRpc(
  accounts: Map<string, XdrTypes.AccountEntry>,
  opts: { fail?: boolean } = {},
): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const rpcReq = JSON.parse(body) as { id: number; method: string; params: { keys: string[] } };
      calls.push(rpcReq.method);
      res.setHeader('content-type', 'application/json');
      if (opts.fail) {
        res.statusCode = 503;
        res.end('{}');
        return;
      }
      const entries = rpcReq.params.keys.flatMap((k) => {
        const key = xdr.LedgerKey.fromXdr(k, 'base64');
        for (const [account, entry] of accounts) {
          const mine = xdr.LedgerKey.account(
            new xdr.LedgerKeyAccount({ accountId: Keypair.fromPublicKey(account).xdrPublicKey() }),
          );
          if (mine.toXdr('base64') === key.toXdr('base64')) {
            return [
              { key: k, xdr: xdr.LedgerEntryData.account(entry).toXdr('base64'), lastModifiedLedgerSeq: 90 },
            ];
          }
        }
        return [];
      });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: rpcReq.id, result: { latestLedger: 100, entries } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

function accountEntry(
  account: Keypair,
  thresholds: [number, number, number, number],
  signers: [Keypair, number][],
): XdrTypes.AccountEntry {
  return new xdr.AccountEntry({
    accountId: account.xdrPublicKey(),
    balance: 100_000_000n,
    seqNum: 1n,
    numSubEntries: signers.length,
    inflationDest: null,
    flags: 0,
    homeDomain: '',
    thresholds: new Uint8Array(thresholds),
    signers: signers.map(
      ([kp, weight]) =>
        new xdr.Signer({ key: xdr.SignerKey.signerKeyTypeEd25519(kp.rawPublicKey()), weight }),
    ),
    ext: xdr.AccountEntryExt.v0(),
  });
}

describe('accounts that exist on chain (signers and thresholds from Stellar RPC)', () => {
  const multisig = Keypair.random();
  const alice = Keypair.random();
  const bob = Keypair.random();
  const lowThreshold = Keypair.random();
  const absent = Keypair.random();
  let rpcApp: TestApp;
  let rpc: Awaited<ReturnType<typeof startFakeRpc>>;
  beforeAll(async () => {
    rpc = await startFakeRpc(
      new Map([
        // Master key disabled; alice and bob together reach the medium threshold.
        [
          multisig.publicKey(),
          accountEntry(
            multisig,
            [0, 1, 2, 3],
            [
              [alice, 1],
              [bob, 1],
            ],
          ),
        ],
        // All thresholds 0 (a fresh account): the master key alone is enough.
        [lowThreshold.publicKey(), accountEntry(lowThreshold, [1, 0, 0, 0], [])],
      ]),
    );
    rpcApp = await buildTestApp({ env: { STELLAR_RPC_URL: rpc.url, RATE_LIMIT_AUTH_MAX: '10000' } });
  });
  afterAll(async () => {
    await rpcApp?.close();
    rpc?.server.close();
  });

  const challengeFor = (kp: Keypair) => getChallenge(rpcApp.app, kp.publicKey());

  it('needs the signers’ weight to reach the medium threshold; a disabled master key does not count', async () => {
    const envelope = await challengeFor(multisig);
    await expectRefused(await postSignIn(rpcApp.app, sign(envelope, [multisig])), 401, 'invalid_signature');
    await expectRefused(await postSignIn(rpcApp.app, sign(envelope, [alice])), 401, 'invalid_signature');
    await expectRefused(
      await postSignIn(rpcApp.app, sign(envelope, [alice, Keypair.random()])),
      401,
      'invalid_signature',
    );
    const ok = await postSignIn(rpcApp.app, sign(envelope, [alice, bob]));
    expect(ok.statusCode).toBe(200);
    const user = await rpcApp.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', ok.json().user_id)
      .executeTakeFirstOrThrow();
    expect(user.stellar_address).toBe(multisig.publicKey());
    expect(rpc.calls).toContain('getLedgerEntries');
  });

  it('accepts the master key of an on-chain account whose thresholds are zero', async () => {
    const ok = await postSignIn(rpcApp.app, sign(await challengeFor(lowThreshold), [lowThreshold]));
    expect(ok.statusCode).toBe(200);
  });

  it('falls back to the master-key rule for an account that is not on chain', async () => {
    const envelope = await challengeFor(absent);
    await expectRefused(await postSignIn(rpcApp.app, sign(envelope, [alice])), 401, 'invalid_signature');
    expect((await postSignIn(rpcApp.app, sign(envelope, [absent]))).statusCode).toBe(200);
  });

  it('fails closed with 503 when the RPC cannot be reached, keeping the challenge usable', async () => {
    const down = await startFakeRpc(new Map(), { fail: true });
    const downApp = await buildTestApp({ env: { STELLAR_RPC_URL: down.url } });
    try {
      const client = Keypair.random();
      const signed = sign(await getChallenge(downApp.app, client.publicKey()), [client]);
      await expectRefused(await postSignIn(downApp.app, signed), 503, 'chain_unavailable');
      const row = await downApp.ctx.db
        .selectFrom('sep10_challenges')
        .select('consumed_at')
        .where('account', '=', client.publicKey())
        .executeTakeFirstOrThrow();
      expect(row.consumed_at).toBeNull();
    } finally {
      await downApp.close();
      down.server.close();
    }
  });
});

describe('across replicas', () => {
  it('consumes a challenge once when both instances receive it at the same moment', async () => {
    // A second API instance on the same database, secrets and Redis, with its own connection pool.
    const config = loadConfig(
      testEnv({
        DATABASE_URL: t.config.DATABASE_URL,
        JWT_SECRET: t.config.JWT_SECRET,
        WALLET_KEYS: `1:${t.config.WALLET_KEYS.get(1)!.toString('base64')}`,
        RATE_LIMIT_AUTH_MAX: '10000',
      }),
    );
    const log = pino({ level: 'silent' });
    const secondCtx = { ...createContext(config, log), redis: t.ctx.redis };
    const second = await buildApp({ config, context: secondCtx, logger: log });
    try {
      for (let round = 0; round < 5; round += 1) {
        const client = Keypair.random();
        // Issued by one replica, redeemed on either.
        const issuer = round % 2 === 0 ? t.app : second;
        const signed = sign(await getChallenge(issuer, client.publicKey()), [client]);
        const sessions = await countRows(t.ctx, 'refresh_tokens');
        const [a, b] = await Promise.all([postSignIn(t.app, signed), postSignIn(second, signed)]);
        expect([a.statusCode, b.statusCode].sort(), `round ${round}`).toEqual([200, 401]);
        const refused = a.statusCode === 401 ? a : b;
        expect(refused.json().code).toBe('challenge_used');
        expect(await countRows(t.ctx, 'refresh_tokens')).toBe(sessions + 1);
        const users = await t.ctx.db
          .selectFrom('users')
          .select('id')
          .where('stellar_address', '=', client.publicKey())
          .execute();
        expect(users).toHaveLength(1);
      }
    } finally {
      await second.close();
      await secondCtx.db.destroy();
    }
  });
});
