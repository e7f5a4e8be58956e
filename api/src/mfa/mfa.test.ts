import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PASSWORD, bearer, buildTestApp, registerUser, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());

const totp = (secret: string): OTPAuth.TOTP =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });

async function enableMfa(access: string): Promise<{ secret: string; recovery: string[] }> {
  const setup = await t.app.inject({ method: 'POST', url: '/v1/me/mfa/setup', headers: bearer(access) });
  expect(setup.statusCode).toBe(200);
  const { secret, otpauth_uri, qr_svg, qr_data_url } = setup.json();
  expect(otpauth_uri).toMatch(/^otpauth:\/\/totp\/Starling:.+secret=/);
  expect(qr_svg).toContain('<svg');
  expect(qr_data_url).toMatch(/^data:image\/png;base64,/);
  const enable = await t.app.inject({
    method: 'POST',
    url: '/v1/me/mfa/enable',
    headers: bearer(access),
    payload: { code: totp(secret).generate({ timestamp: Date.now() - 30_000 }) },
  });
  expect(enable.statusCode).toBe(200);
  return { secret, recovery: enable.json().recovery_codes };
}

async function passwordStep(email: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(res.statusCode).toBe(200);
  expect(res.json().mfa_required).toBe(true);
  expect(res.json().access_token).toBeUndefined();
  return res.json().mfa_token;
}

describe('TOTP MFA', () => {
  it('refuses to enable with a wrong code and stays off', async () => {
    const { access } = await registerUser(t.app);
    await t.app.inject({ method: 'POST', url: '/v1/me/mfa/setup', headers: bearer(access) });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/enable',
      headers: bearer(access),
      payload: { code: '000000' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_mfa_code');
    const status = await t.app.inject({ url: '/v1/me/mfa', headers: bearer(access) });
    expect(status.json()).toEqual({ enabled: false, recovery_codes_left: 0 });
  });

  it('asks for the code at login once MFA is on, and never accepts a code twice', async () => {
    const { access, email } = await registerUser(t.app);
    const { secret } = await enableMfa(access);
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(access) })).json().mfa_enabled).toBe(true);

    const mfaToken = await passwordStep(email);
    // The MFA-pending token is not an access token.
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(mfaToken) })).statusCode).toBe(401);
    const code = totp(secret).generate();
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { mfa_token: mfaToken, code },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().access_token).toBeTruthy();

    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { mfa_token: await passwordStep(email), code },
    });
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe('mfa_code_reused');
  });

  it('accepts at most one step of drift', async () => {
    const { access, email } = await registerUser(t.app);
    const { secret } = await enableMfa(access);
    const tooOld = totp(secret).generate({ timestamp: Date.now() - 95_000 });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { mfa_token: await passwordStep(email), code: tooOld },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_mfa_code');
  });

  it('accepts each recovery code once', async () => {
    const { access, email } = await registerUser(t.app);
    const { recovery } = await enableMfa(access);
    expect(recovery).toHaveLength(10);
    const stored = await t.ctx.db.selectFrom('mfa_recovery_codes').select('code_hash').execute();
    expect(stored.every((r) => !recovery.some((c) => r.code_hash.toString().includes(c)))).toBe(true);
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { mfa_token: await passwordStep(email), code: recovery[0] },
    });
    expect(first.statusCode).toBe(200);
    const second = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { mfa_token: await passwordStep(email), code: recovery[0] },
    });
    expect(second.statusCode).toBe(401);
    const status = await t.app.inject({ url: '/v1/me/mfa', headers: bearer(access) });
    expect(status.json()).toEqual({ enabled: true, recovery_codes_left: 9 });
  });

  it('disables only with a valid code', async () => {
    const { access, email } = await registerUser(t.app);
    const { secret } = await enableMfa(access);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/disable',
      headers: bearer(access),
      payload: { code: '123456' },
    });
    expect(bad.statusCode).toBe(401);
    const good = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/disable',
      headers: bearer(access),
      payload: { code: totp(secret).generate() },
    });
    expect(good.statusCode).toBe(204);
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: PASSWORD },
    });
    expect(login.json().access_token).toBeTruthy();
  });

  it('throttles repeated failed codes', async () => {
    const { access, email } = await registerUser(t.app);
    await enableMfa(access);
    const token = await passwordStep(email);
    let limited = false;
    for (let i = 0; i < t.config.RATE_LIMIT_AUTH_MAX + 1 && !limited; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login/mfa',
        payload: { mfa_token: token, code: '000000' },
      });
      limited = res.statusCode === 429;
    }
    expect(limited).toBe(true);
  });
});

describe('MFA attempts per account', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await buildTestApp({ env: { MFA_ACCOUNT_ATTEMPTS_MAX: '3', RATE_LIMIT_AUTH_MAX: '100' } });
  });
  afterAll(async () => strict.close());

  const attempt = (mfaToken: string, code: string, ip: string) =>
    strict.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      remoteAddress: ip,
      payload: { mfa_token: mfaToken, code },
    });

  it('limits code guesses per account whatever the IP, and not the account next door', async () => {
    const a = await registerUser(strict.app);
    const b = await registerUser(strict.app);
    const mfa = async (u: typeof a) => {
      const setup = await strict.app.inject({
        method: 'POST',
        url: '/v1/me/mfa/setup',
        headers: bearer(u.access),
      });
      const secret = setup.json().secret as string;
      const on = await strict.app.inject({
        method: 'POST',
        url: '/v1/me/mfa/enable',
        headers: bearer(u.access),
        payload: { code: totp(secret).generate({ timestamp: Date.now() - 30_000 }) },
      });
      expect(on.statusCode).toBe(200);
      const login = await strict.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: u.email, password: PASSWORD },
      });
      return { secret, token: login.json().mfa_token as string };
    };
    const ma = await mfa(a);
    const mb = await mfa(b);
    // Three wrong guesses from three addresses use a's budget: then even the right code waits.
    for (const ip of ['10.7.0.1', '10.7.0.2', '10.7.0.3']) {
      expect((await attempt(ma.token, '000000', ip)).statusCode).toBe(401);
    }
    const limited = await attempt(ma.token, totp(ma.secret).generate(), '10.7.0.4');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    // b, from an address a's guesses came from, still gets to answer.
    expect((await attempt(mb.token, '000000', '10.7.0.1')).statusCode).toBe(401);
    expect((await attempt(mb.token, totp(mb.secret).generate(), '10.7.0.2')).statusCode).toBe(200);
  });
});

vi.setConfig({ testTimeout: 60_000 });
