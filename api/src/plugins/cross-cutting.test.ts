import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifySchema } from 'fastify';
import pino from 'pino';
import { buildApp } from '../app.ts';
import { freePort } from '../../../ops/dev/services.ts';
import { principalId } from '../auth/principal.ts';
import { requestFingerprint } from './idempotency.ts';
import { bearer, buildTestApp, countRows, registerUser, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());

const kyc = { full_name: 'Ada Lovelace', country: 'GB', document_type: 'passport' };

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, without a second write', async () => {
    const u = await registerUser(t.app);
    const headers = { ...bearer(u.access), 'idempotency-key': 'kyc-1' };
    const first = await t.app.inject({ method: 'POST', url: '/v1/me/kyc', headers, payload: kyc });
    const second = await t.app.inject({ method: 'POST', url: '/v1/me/kyc', headers, payload: kyc });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    const rows = await t.ctx.db
      .selectFrom('kyc_submissions')
      .select('id')
      .where('user_id', '=', u.userId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('answers 422 for the same key with another body', async () => {
    const u = await registerUser(t.app);
    const headers = { ...bearer(u.access), 'idempotency-key': 'kyc-2' };
    await t.app.inject({ method: 'POST', url: '/v1/me/kyc', headers, payload: kyc });
    const other = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers,
      payload: { ...kyc, country: 'FR' },
    });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
  });

  it('answers 409 while the original is still in flight', async () => {
    const u = await registerUser(t.app);
    const principal = { kind: 'user', userId: u.userId } as const;
    await t.ctx.db
      .insertInto('idempotency_keys')
      .values({
        scope: principalId({ ...principal, role: 'learner', jti: '', expiresAt: 0 }),
        route: 'POST /v1/me/kyc',
        key: 'kyc-3',
        request_hash: requestFingerprint('POST', '/v1/me/kyc', kyc),
        state: 'in_flight',
      })
      .execute();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: { ...bearer(u.access), 'idempotency-key': 'kyc-3' },
      payload: kyc,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency_in_flight');
  });

  it('scopes keys to the caller: the same key from someone else is a new request', async () => {
    const a = await registerUser(t.app);
    const b = await registerUser(t.app);
    const ra = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: { ...bearer(a.access), 'idempotency-key': 'shared' },
      payload: kyc,
    });
    const rb = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: { ...bearer(b.access), 'idempotency-key': 'shared' },
      payload: kyc,
    });
    expect(ra.json().user_id).toBe(a.userId);
    expect(rb.json().user_id).toBe(b.userId);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
  });

  it('forgets a key after 24 hours: an old record no longer replays or conflicts', async () => {
    const u = await registerUser(t.app);
    const headers = { ...bearer(u.access), 'idempotency-key': 'kyc-old' };
    const first = await t.app.inject({ method: 'POST', url: '/v1/me/kyc', headers, payload: kyc });
    expect(first.statusCode).toBe(202);
    await t.ctx.db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - 25 * 3600 * 1000) })
      .where('key', '=', 'kyc-old')
      .execute();
    // Another body under the same key: 422 while remembered, a fresh request once forgotten.
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers,
      payload: { ...kyc, country: 'FR' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('kyc_pending');
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });

  it('stores nothing for a request rejected by validation', async () => {
    const u = await registerUser(t.app);
    const before = await countRows(t.ctx, 'idempotency_keys');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: { ...bearer(u.access), 'idempotency-key': 'bad-body' },
      payload: { ...kyc, country: 1 },
    });
    expect(res.statusCode).toBe(400);
    expect(await countRows(t.ctx, 'idempotency_keys')).toBe(before);
  });

  it('refuses a malformed key', async () => {
    const u = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: { ...bearer(u.access), 'idempotency-key': 'x'.repeat(300) },
      payload: kyc,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_idempotency_key');
  });
});

describe('rate limits', () => {
  it('limits auth routes through Redis and says so in RateLimit headers', async () => {
    const payload = { email: 'nobody@example.test', password: 'x' };
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload,
      remoteAddress: '10.9.9.1',
    });
    expect(first.headers['ratelimit-limit']).toBe(String(t.config.RATE_LIMIT_AUTH_MAX));
    expect(Number(first.headers['ratelimit-remaining'])).toBe(t.config.RATE_LIMIT_AUTH_MAX - 1);
    let last = first;
    for (let i = 1; i <= t.config.RATE_LIMIT_AUTH_MAX; i++) {
      last = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload,
        remoteAddress: '10.9.9.1',
      });
    }
    expect(last.statusCode).toBe(429);
    expect(last.json().code).toBe('rate_limited');
    expect(last.headers['retry-after']).toBeDefined();
    // Counted in Redis, where another replica would see it.
    const keys = await t.ctx.redis!.keys('*');
    expect(keys.some((k) => k.includes('rl:'))).toBe(true);
    // Another client is unaffected.
    const other = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload,
      remoteAddress: '10.9.9.2',
    });
    expect(other.statusCode).toBe(401);
  });

  it('falls back to per-process limits when Redis is down, and counts the fallback', async () => {
    const down = await buildTestApp({
      env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, RATE_LIMIT_AUTH_MAX: '3' },
    });
    try {
      const payload = { email: 'nobody@example.test', password: 'x' };
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push((await down.app.inject({ method: 'POST', url: '/v1/auth/login', payload })).statusCode);
      expect(codes).toEqual([401, 401, 401, 429]);
      const metrics = await down.app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(/starling_api_rate_limit_fallbacks_total [1-9]/);
      const ready = await down.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.redis.ok).toBe(false);
    } finally {
      await down.close();
    }
  });

  it('still limits when no Redis is configured at all', async () => {
    const none = await buildTestApp({ redis: false, env: { RATE_LIMIT_AUTH_MAX: '2' } });
    try {
      const payload = { email: 'nobody@example.test', password: 'x' };
      const codes: number[] = [];
      for (let i = 0; i < 3; i++)
        codes.push((await none.app.inject({ method: 'POST', url: '/v1/auth/login', payload })).statusCode);
      expect(codes).toEqual([401, 401, 429]);
      expect((await none.app.inject({ url: '/readyz' })).json().checks.redis).toEqual({
        ok: true,
        skipped: true,
      });
    } finally {
      await none.close();
    }
  });
});

describe('HTTP hygiene', () => {
  it('sends security headers and a request id, honouring a caller-supplied one', async () => {
    const res = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['x-request-id']).toBe('trace-abc-12345');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const bogus = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\n' } });
    expect(bogus.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('allows only listed origins through CORS', async () => {
    const ok = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/auth/login',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const evil = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/auth/login',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers unknown routes with a problem', async () => {
    const res = await t.app.inject({ url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'route_not_found', status: 404 });
  });

  it('never shows internals on a 5xx, and readyz reports the database down', async () => {
    const broken = await buildTestApp({
      env: { DATABASE_URL: `postgres://starling@127.0.0.1:${await freePort()}/gone` },
    });
    try {
      const res = await broken.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'a@b.test', password: 'x' },
      });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ code: 'internal_error', status: 500 });
      expect(res.body).not.toMatch(/pool|stack|at .*\.ts|postgres/i);
      expect(res.json().request_id).toBe(res.headers['x-request-id']);
      const ready = await broken.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database.ok).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('exposes Prometheus metrics', async () => {
    await t.app.inject({ url: '/healthz' });
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /starling_api_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    expect(res.body).toContain('starling_api_process_cpu_seconds_total');
  });
});

describe('OpenAPI', () => {
  it('documents every /v1 route from the TypeBox schemas, with a UI at /docs', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    const routes = t.app.printRoutes({ commonPrefix: false });
    expect(routes).toContain('/v1/auth/register');
    const documented = Object.keys(doc.paths);
    for (const p of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/me',
      '/v1/me/mfa/setup',
      '/v1/admin/api-keys',
      '/v1/users/{id}',
    ]) {
      expect(documented).toContain(p);
    }
    expect(
      doc.paths['/v1/auth/register'].post.requestBody.content['application/json'].schema.properties.email,
    ).toBeDefined();
    // The WebSocket is documented too, and a plain GET of it is told to upgrade.
    expect(documented).toContain('/v1/ws');
    const plain = await t.app.inject({ url: '/v1/ws' });
    expect(plain.statusCode).toBe(426);
    expect(plain.json().code).toBe('upgrade_required');
    expect(plain.headers.upgrade).toBe('websocket');
    const ui = await t.app.inject({ url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});

interface RegisteredRoute {
  method: string;
  url: string;
  schema?: FastifySchema & { hide?: boolean };
}
type OpenApiDoc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };

/** Fastify's `/a/:id` and `/a/:file(^regex$)` as OpenAPI writes them: `/a/{id}`, `/a/{file}`. */
const openApiPath = (url: string): string => url.replace(/:(\w+)(?:\((?:\\.|[^)])*\))?/g, '{$1}');

/** Each registered /v1 operation the document leaves out or describes without a response. */
function undocumented(routes: readonly RegisteredRoute[], doc: OpenApiDoc): string[] {
  const missing: string[] = [];
  for (const r of routes) {
    const path = openApiPath(r.url);
    const op = doc.paths[path]?.[r.method.toLowerCase()];
    const label = `${r.method} ${path}`;
    if (r.schema?.hide) missing.push(`${label}: hidden`);
    else if (!r.schema?.response || Object.keys(r.schema.response).length === 0)
      missing.push(`${label}: no response schema`);
    else if (!op) missing.push(`${label}: not in the document`);
    else if (!op.responses || Object.keys(op.responses).length === 0)
      missing.push(`${label}: no responses documented`);
  }
  return missing;
}

describe('OpenAPI coverage', () => {
  it('documents every registered /v1 route and method, each with a response schema', async () => {
    // A second app on the same context, watching every route as it registers (hidden ones too).
    const routes: RegisteredRoute[] = [];
    const app = await buildApp({
      config: t.config,
      context: t.ctx,
      logger: pino({ level: 'silent' }),
      onRoute: (r) => {
        for (const method of [r.method].flat()) routes.push({ method, url: r.url, schema: r.schema });
      },
    });
    try {
      await app.ready();
      const doc = (await app.inject({ url: '/openapi.json' })).json() as OpenApiDoc;
      const v1 = routes.filter((r) => r.url.startsWith('/v1/') && !['HEAD', 'OPTIONS'].includes(r.method));
      // Sanity: the hook saw the whole API (auth, learning, certificates, the regex PDF route, ops).
      expect(v1.length).toBeGreaterThan(80);
      expect(v1.map((r) => `${r.method} ${openApiPath(r.url)}`)).toEqual(
        expect.arrayContaining([
          'POST /v1/auth/register',
          'POST /v1/lessons/{id}/complete',
          'GET /v1/credentials/{file}',
          'POST /v1/ops/intents/{id}/retry',
        ]),
      );
      expect(undocumented(v1, doc)).toEqual([]);

      // The check itself notices a hidden route, a route without a response, and a missing operation.
      const [first, ...rest] = v1 as [RegisteredRoute, ...RegisteredRoute[]];
      const path = openApiPath(first.url);
      const label = `${first.method} ${path}`;
      expect(undocumented([{ ...first, schema: { ...first.schema, hide: true } }, ...rest], doc)).toEqual([
        `${label}: hidden`,
      ]);
      expect(undocumented([{ ...first, schema: { ...first.schema, response: undefined } }], doc)).toEqual([
        `${label}: no response schema`,
      ]);
      const { [first.method.toLowerCase()]: _dropped, ...others } = doc.paths[path]!;
      expect(undocumented(v1, { paths: { ...doc.paths, [path]: others } })).toEqual([
        `${label}: not in the document`,
      ]);
    } finally {
      await app.close();
    }
  });
});

describe('proxies', () => {
  it('believes X-Forwarded-For only from the configured proxy addresses', async () => {
    const trusted = await buildTestApp({ env: { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_AUTH_MAX: '1' } });
    try {
      const payload = { email: 'nobody@example.test', password: 'x' };
      const viaSite = (ip: string) =>
        trusted.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload,
          remoteAddress: '127.0.0.1',
          headers: { 'x-forwarded-for': ip },
        });
      // Two visitors behind the site are counted apart…
      expect((await viaSite('203.0.113.7')).statusCode).toBe(401);
      expect((await viaSite('203.0.113.8')).statusCode).toBe(401);
      expect((await viaSite('203.0.113.7')).statusCode).toBe(429);
      // …while a client that is not the proxy cannot pick its own address.
      const direct = (ip: string) =>
        trusted.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload,
          remoteAddress: '198.51.100.1',
          headers: { 'x-forwarded-for': ip },
        });
      expect((await direct('203.0.113.50')).statusCode).toBe(401);
      expect((await direct('203.0.113.51')).statusCode).toBe(429);
    } finally {
      await trusted.close();
    }
  });
});
