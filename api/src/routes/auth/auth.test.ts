import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  PASSWORD,
  bearer,
  buildTestApp,
  countRows,
  registerUser,
  uniqueEmail,
  type TestApp,
} from '../../test/harness.ts';
import { Keypair } from '@stellar/stellar-sdk';
import { createWalletCrypto } from '../../wallets/custodial.ts';

let t: TestApp;
beforeAll(async () => {
  // Many registrations from one test address: rate limits are tested in plugins/cross-cutting.test.ts.
  t = await buildTestApp({ env: { RATE_LIMIT_AUTH_MAX: '1000' } });
});
afterAll(async () => t.close());

describe('registration', () => {
  it('creates a learner with an argon2id password, a custodial wallet and an audit entry', async () => {
    const email = uniqueEmail();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: email.toUpperCase(), password: PASSWORD, display_name: 'Ada' },
    });
    expect(res.statusCode).toBe(201);
    const session = res.json();
    expect(session.token_type).toBe('Bearer');
    const user = await t.ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', session.user_id)
      .executeTakeFirstOrThrow();
    expect(user.email).toBe(email.toLowerCase());
    expect(user.role).toBe('learner');
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=(\d+),p=1,t=2\$/);
    expect(Number(/m=(\d+)/.exec(user.password_hash!)![1])).toBeGreaterThanOrEqual(19_456);
    expect(user.wallet_kind).toBe('custodial');
    const wallet = await t.ctx.db
      .selectFrom('custodial_wallets')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(wallet.public_key).toBe(user.stellar_address);
    expect(wallet.secret_ciphertext).toMatch(/^v1\./);
    const secret = createWalletCrypto(t.config).decrypt(user.id, wallet.secret_ciphertext);
    expect(secret).toMatch(/^S[A-Z2-7]{55}$/);
    expect(wallet.secret_ciphertext).not.toContain(secret);
    expect(Keypair.fromSecret(secret).publicKey()).toBe(user.stellar_address);
    // Bound to its owner: the ciphertext does not decrypt for anyone else.
    expect(() => createWalletCrypto(t.config).decrypt('someone-else', wallet.secret_ciphertext)).toThrow();
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', user.id)
      .execute();
    expect(audit.map((a) => a.action)).toContain('user.registered');
    // The secret never appears in the response.
    expect(res.body).not.toContain(secret);
  });

  it('refuses a taken email with 409 and writes nothing', async () => {
    const { email } = await registerUser(t.app);
    const before = await countRows(t.ctx, 'users');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email, password: PASSWORD, display_name: 'B' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'email_taken',
      type: 'urn:starling:problem:email_taken',
      status: 409,
    });
    expect(await countRows(t.ctx, 'users')).toBe(before);
  });

  it.each([
    [{ email: 'not-an-email', password: PASSWORD, display_name: 'A' }, 'email'],
    [{ email: uniqueEmail(), password: 'short', display_name: 'A' }, 'password'],
    [{ email: uniqueEmail(), password: PASSWORD }, 'display_name'],
    [{ email: uniqueEmail(), password: PASSWORD, display_name: 'A', is_admin: true }, 'is_admin'],
    [{ email: uniqueEmail(), password: 12345678901, display_name: 'A' }, 'password'],
  ])('rejects %j naming the field, writing nothing', async (payload, field) => {
    const before = await countRows(t.ctx, 'users');
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', field });
    expect(res.json().request_id).toBe(res.headers['x-request-id']);
    expect(await countRows(t.ctx, 'users')).toBe(before);
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('malformed_json');
  });

  it('says so when Content-Type claims JSON but the body is empty', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'malformed_json' });
    expect(res.json().detail).toMatch(/empty/);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: uniqueEmail(), password: PASSWORD, display_name: 'x'.repeat(2_000_000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('body_too_large');
  });

  it('records the referrer given a referral code, and refuses an unknown code', async () => {
    const referrer = await registerUser(t.app);
    const me = (await t.app.inject({ url: '/v1/me', headers: bearer(referrer.access) })).json();
    const referee = await registerUser(t.app, { ref: me.referral_code });
    const row = await t.ctx.db
      .selectFrom('users')
      .select('referred_by')
      .where('id', '=', referee.userId)
      .executeTakeFirstOrThrow();
    expect(row.referred_by).toBe(referrer.userId);
    const list = (await t.app.inject({ url: '/v1/me/referrals', headers: bearer(referrer.access) })).json();
    expect(list.referrals.map((r: { id: string }) => r.id)).toEqual([referee.userId]);
    expect(list.referral_link).toContain(`ref=${me.referral_code}`);

    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: uniqueEmail(), password: PASSWORD, display_name: 'X', ref: 'ZZZZZZZZ' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'unknown_referral_code', field: 'ref' });
  });
});

describe('login and tokens', () => {
  it('logs in with the right password and refuses a wrong one the same way as an unknown email', async () => {
    const { email } = await registerUser(t.app);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
    const claims = decodeJwt(ok.json().access_token);
    expect(claims).toMatchObject({ iss: 'starling', aud: 'starling-api', role: 'learner' });
    expect(decodeProtectedHeader(ok.json().access_token)).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: 'wrong password!' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_credentials');
    expect(unknown.json().code).toBe('invalid_credentials');
  });

  it('refuses forged, expired, alg=none and wrong-type tokens', async () => {
    const { access } = await registerUser(t.app);
    const claims = decodeJwt(access);
    const key = new TextEncoder().encode(t.config.JWT_SECRET);
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.sub!)
      .setJti('00000000-0000-4000-8000-000000000000')
      .setIssuer('starling')
      .setAudience('starling-api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another secret that is long enough!!'));
    const expired = await new SignJWT({ role: 'learner' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.sub!)
      .setJti('00000000-0000-4000-8000-000000000001')
      .setIssuer('starling')
      .setAudience('starling-api')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(key);
    const mfaTyped = await new SignJWT({ role: 'learner' })
      .setProtectedHeader({ alg: 'HS256', typ: 'mfa+jwt' })
      .setSubject(claims.sub!)
      .setJti('00000000-0000-4000-8000-000000000002')
      .setIssuer('starling')
      .setAudience('starling-api')
      .setExpirationTime('5m')
      .sign(key);
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, role: 'admin' })}.`;
    const cases: [string, string][] = [
      [forged, 'invalid_token'],
      [expired, 'token_expired'],
      [mfaTyped, 'invalid_token'],
      [none, 'invalid_token'],
      ['garbage', 'invalid_token'],
    ];
    for (const [token, code] of cases) {
      const res = await t.app.inject({ url: '/v1/me', headers: bearer(token) });
      expect(res.statusCode, code).toBe(401);
      expect(res.json().code).toBe(code);
    }
    const ok = await t.app.inject({ url: '/v1/me', headers: bearer(access) });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
  });

  it('rotates refresh tokens and revokes the whole family when a used one comes back', async () => {
    const { refresh, userId } = await registerUser(t.app);
    const auditOf = (action: string) =>
      t.ctx.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', action)
        .where('target_id', '=', userId)
        .execute();
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(first.statusCode).toBe(200);
    const next = first.json().refresh_token as string;
    expect(next).not.toBe(refresh);
    // The rotation is a state change of its own, audited with the session family it continues.
    const { family_id: family } = await t.ctx.db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const refreshed = await auditOf('session.refreshed');
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).toMatchObject({
      target_type: 'user',
      request_id: first.headers['x-request-id'],
      data: { family_id: family },
    });
    const replay = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('refresh_token_reused');
    // A refused refresh rotates nothing and is not recorded as one.
    expect(await auditOf('session.refreshed')).toHaveLength(1);
    expect(await auditOf('session.reuse_detected')).toHaveLength(1);
    // The legitimate successor was revoked with the family.
    const successor = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: next },
    });
    expect(successor.statusCode).toBe(401);
    expect(successor.json().code).toBe('refresh_token_revoked');
  });

  it('lets exactly one of two concurrent refreshes win; the loser revokes the family', async () => {
    const { refresh } = await registerUser(t.app);
    const [a, b] = await Promise.all([
      t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: refresh } }),
      t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: refresh } }),
    ]);
    const codes = [a.statusCode, b.statusCode].sort();
    expect(codes).toEqual([200, 401]);
    const winner = (a.statusCode === 200 ? a : b).json().refresh_token as string;
    const after = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: winner },
    });
    expect(after.json().code).toBe('refresh_token_revoked');
  });

  it('logs out: the access token and its session stop working', async () => {
    const { access, refresh } = await registerUser(t.app);
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(access),
      payload: { refresh_token: refresh },
    });
    expect(out.statusCode).toBe(204);
    const me = await t.app.inject({ url: '/v1/me', headers: bearer(access) });
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('token_revoked');
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(r.json().code).toBe('refresh_token_revoked');
  });
});

describe('referral listing', () => {
  it('pages referees sharing one millisecond without repeating or skipping, and refuses a foreign cursor', async () => {
    const referrer = await registerUser(t.app);
    const me = (await t.app.inject({ url: '/v1/me', headers: bearer(referrer.access) })).json();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await registerUser(t.app, { ref: me.referral_code })).userId);
    // Same millisecond, different microseconds: a millisecond cursor would skip or repeat one.
    const base = '2026-01-01T00:00:00.123';
    await t.ctx.db
      .updateTable('users')
      .set({ created_at: `${base}100Z` })
      .where('id', '=', ids[0]!)
      .execute();
    await t.ctx.db
      .updateTable('users')
      .set({ created_at: `${base}200Z` })
      .where('id', '=', ids[1]!)
      .execute();
    await t.ctx.db
      .updateTable('users')
      .set({ created_at: `${base}300Z` })
      .where('id', '=', ids[2]!)
      .execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.app.inject({
        url: `/v1/me/referrals?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        headers: bearer(referrer.access),
      });
      const page = res.json() as { referrals: { id: string }[]; next_cursor: string | null };
      seen.push(...page.referrals.map((r) => r.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([ids[2], ids[1], ids[0]]);
    const bad = await t.app.inject({
      url: '/v1/me/referrals?cursor=bm9wZQ',
      headers: bearer(referrer.access),
    });
    expect(bad.json()).toMatchObject({ status: 400, code: 'invalid_cursor', field: 'cursor' });
  });
});
