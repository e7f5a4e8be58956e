// Builds the real app against this test file's own database and a key prefix in the shared Redis.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Keypair } from '@stellar/stellar-sdk';
import pino, { type Logger } from 'pino';
import { createTestDatabase, redisTestUrl, uniquePrefix } from '../../../ops/test/db.ts';
import { buildApp, type App } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import { createContext, createRedis, type AppContext } from '../context.ts';

export interface TestApp {
  app: App;
  ctx: AppContext;
  config: Readonly<Config>;
  close(): Promise<void>;
}

export const SEP10_KEYPAIR = Keypair.random();

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'postgres://unused',
    JWT_SECRET: randomBytes(32).toString('hex'),
    WALLET_KEYS: `1:${randomBytes(32).toString('base64')}`,
    SEP10_SIGNING_SECRET: SEP10_KEYPAIR.secret(),
    SEP10_HOME_DOMAIN: 'starling.test',
    SEP10_WEB_AUTH_DOMAIN: 'api.starling.test',
    CORS_ORIGINS: 'http://localhost:5173',
    // Tests still prove argon2id is used; the OWASP floor keeps them honest about cost.
    ARGON2_MEMORY_KIB: '19456',
    ...overrides,
  };
}

export async function buildTestApp(
  opts: {
    env?: Record<string, string>;
    redis?: boolean;
    /** Given the config, the logger for the app and its context (silent when absent). */
    logger?: (config: Readonly<Config>) => Logger;
  } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig(testEnv({ DATABASE_URL: db.url, ...opts.env }));
  const log = opts.logger?.(config) ?? pino({ level: 'silent' });
  const base = createContext(config, log);
  const redis =
    opts.redis === false ? null : createRedis(opts.env?.REDIS_URL ?? redisTestUrl(), log, uniquePrefix());
  // Against the harness's Redis, start only once connected: requests made while ioredis is still
  // connecting are counted by the per-process fallback, which would split a test's counts.
  if (redis && !opts.env?.REDIS_URL && redis.status !== 'ready') await once(redis, 'ready');
  base.redis?.disconnect();
  const ctx: AppContext = { ...base, redis };
  const app = await buildApp({ config, context: ctx, logger: log });
  await app.ready();
  return {
    app,
    ctx,
    config,
    async close() {
      await app.close();
      redis?.disconnect();
      await ctx.db.destroy();
      await db.drop();
    },
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'learner'): string {
  counter += 1;
  return `${prefix}.${counter}.${randomBytes(3).toString('hex')}@example.test`;
}

export const PASSWORD = 'correct horse battery staple';

export async function registerUser(
  app: App,
  body: Partial<{ email: string; password: string; display_name: string; ref: string }> = {},
): Promise<{ userId: string; email: string; access: string; refresh: string }> {
  const email = body.email ?? uniqueEmail();
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: { email, password: PASSWORD, display_name: 'Ada Learner', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const s = res.json() as { user_id: string; access_token: string; refresh_token: string };
  return { userId: s.user_id, email, access: s.access_token, refresh: s.refresh_token };
}

/** Promotes a user directly in the database (the bootstrap an operator does once). */
export async function makeRole(
  ctx: AppContext,
  userId: string,
  role: 'admin' | 'operator' | 'instructor',
): Promise<void> {
  await ctx.db.updateTable('users').set({ role }).where('id', '=', userId).execute();
}

export async function loginAs(app: App, email: string, password = PASSWORD): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { access_token: string }).access_token;
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export async function countRows(
  ctx: AppContext,
  table:
    | 'users'
    | 'audit_log'
    | 'refresh_tokens'
    | 'api_keys'
    | 'kyc_submissions'
    | 'idempotency_keys'
    | 'custodial_wallets'
    | 'sep10_challenges',
): Promise<number> {
  const r = await ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
