// Rate limits (per route, opt-in) counted in Redis so every API replica shares them. Defined
// behaviour without Redis: when REDIS_URL is unset, or Redis fails mid-request, counting falls back
// to this process's memory — limits still apply, per replica — and the fallback is logged and counted.
import { createRequire } from 'node:module';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { AppContext } from '../context.ts';

const require = createRequire(import.meta.url);
// The plugin's own stores, composed below; they are plain constructors without typings.
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js');
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js');

type IncrCallback = (err: Error | null, result?: { current: number; ttl: number }) => void;
interface Store {
  incr(key: string, cb: IncrCallback, timeWindow: number, max: number): void;
  child(routeOptions: Record<string, unknown>): Store;
}

function fallbackStore(primary: Store | null, local: Store, onFallback: (err: Error) => void): Store {
  return {
    incr(key, cb, timeWindow, max) {
      if (!primary) return local.incr(key, cb, timeWindow, max);
      primary.incr(
        key,
        (err, result) => {
          if (!err) return cb(null, result);
          onFallback(err);
          local.incr(key, cb, timeWindow, max);
        },
        timeWindow,
        max,
      );
    },
    child(routeOptions) {
      return fallbackStore(primary?.child(routeOptions) ?? null, local.child(routeOptions), onFallback);
    },
  };
}

export default fp(
  async (app, opts: { ctx: AppContext; fallbacks: Counter }) => {
    const { redis, log } = opts.ctx;
    if (!redis) log.warn('REDIS_URL is unset: rate limits are counted per process');
    let lastWarn = 0;
    const onFallback = (err: Error): void => {
      opts.fallbacks.inc();
      if (Date.now() - lastWarn > 10_000) {
        lastWarn = Date.now();
        log.warn({ err: err.message }, 'redis unavailable: rate limits counted per process');
      }
    };
    class Composite {
      private inner: Store;
      constructor(params: { continueExceeding: boolean; exponentialBackoff: boolean }) {
        const local = new LocalStore(params.continueExceeding, params.exponentialBackoff, 5000) as Store;
        const primary = redis
          ? (new RedisStore(params.continueExceeding, params.exponentialBackoff, redis, 'rl:') as Store)
          : null;
        this.inner = fallbackStore(primary, local, onFallback);
      }
      incr(key: string, cb: IncrCallback, timeWindow: number, max: number): void {
        this.inner.incr(key, cb, timeWindow, max);
      }
      child(routeOptions: Record<string, unknown>): Store {
        return this.inner.child(routeOptions);
      }
    }
    await app.register(rateLimit, {
      global: false,
      store: Composite as never,
      skipOnError: false,
      enableDraftSpec: true,
      keyGenerator: (request) => request.ip,
    });
  },
  { name: 'rate-limit' },
);

/** The account an MFA attempt is for: the signed-in user, else the verified mfa_token's subject. */
async function mfaAccountKey(app: FastifyInstance, request: FastifyRequest): Promise<string> {
  const p = request.principal;
  if (p?.kind === 'user') return `mfa-account:${p.userId}`;
  const token = (request.body as { mfa_token?: unknown } | undefined)?.mfa_token;
  if (typeof token === 'string') {
    // Only a token we signed names an account: a forged subject cannot use up someone else's budget.
    const claims = await app.tokens.verify('mfa', token).catch(() => null);
    if (claims) return `mfa-account:${claims.sub}`;
  }
  return `mfa-ip:${request.ip}`;
}

/**
 * The route limit for MFA code attempts: per account, whatever the IP (the per-IP limit alone lets
 * many addresses guess one account's codes; RFC 6238 §5.2), counted once the body is parsed.
 * @fastify/rate-limit runs one limiter per request, so this replaces the per-IP one on these routes.
 */
export function mfaAttemptsLimit(app: FastifyInstance) {
  const { MFA_ACCOUNT_ATTEMPTS_MAX: max, MFA_ACCOUNT_WINDOW_MS: timeWindow } = app.ctx.config;
  return {
    max,
    timeWindow,
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) => mfaAccountKey(app, request),
  };
}
