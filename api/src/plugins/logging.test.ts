// What reaches the logs, through the production logger (createLogger) at its most verbose level:
// never a custodial secret, a password or a token; and every request's lines carry its request id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../app.ts';
import { createWalletCrypto } from '../wallets/custodial.ts';
import { bearer, buildTestApp, uniqueEmail, type TestApp } from '../test/harness.ts';

let t: TestApp;
const lines: string[] = [];
const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  t = await buildTestApp({
    env: { LOG_LEVEL: 'trace' },
    logger: (config) => createLogger(config, { write: (line: string) => void lines.push(line) }),
  });
});
afterAll(async () => t.close());

describe('logs', () => {
  it('never contain the custodial secret, its ciphertext, the password or the tokens', async () => {
    const password = `log-test ${Math.random().toString(36).slice(2)} pass`;
    const email = uniqueEmail('logs');
    const reg = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email, password, display_name: 'Log Test' },
    });
    expect(reg.statusCode).toBe(201);
    const { user_id: userId, access_token: access, refresh_token: refresh } = reg.json();
    const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    expect(login.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(access) })).statusCode).toBe(200);
    const rotated = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: refresh },
    });
    expect(rotated.statusCode).toBe(200);

    const wallet = await t.ctx.db
      .selectFrom('custodial_wallets')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const secret = createWalletCrypto(t.config).decrypt(userId, wallet.secret_ciphertext);
    expect(secret).toMatch(/^S[A-Z2-7]{55}$/);

    // The capture works: this user's requests were logged at every level the app uses.
    expect(lines.length).toBeGreaterThan(4);
    expect(lines.some((l) => l.includes('/v1/auth/register'))).toBe(true);
    const forbidden = {
      secret,
      ciphertext: wallet.secret_ciphertext,
      password,
      access,
      refresh,
      newAccess: login.json().access_token as string,
    };
    for (const [what, value] of Object.entries(forbidden))
      expect(
        lines.filter((l) => l.includes(value)),
        what,
      ).toEqual([]);
  });

  it('carries the request id from x-request-id on every line of that request, and makes one otherwise', async () => {
    const id = `req-logs-${Date.now()}`;
    const res = await t.app.inject({ url: '/v1/me', headers: { 'x-request-id': id } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-request-id']).toBe(id);
    expect(res.json().request_id).toBe(id);
    const mine = parsed().filter((l) => l.reqId === id);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    expect(mine.find((l) => l.msg === 'incoming request')).toMatchObject({ req: { url: '/v1/me' } });

    // An id that is not a safe token is replaced, never written to the logs as given.
    const bad = 'bad id\nforged-line';
    const other = await t.app.inject({ url: '/v1/me', headers: { 'x-request-id': bad } });
    const generated = other.headers['x-request-id'] as string;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed().filter((l) => l.reqId === generated).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.includes('forged-line'))).toBe(false);
  });
});
