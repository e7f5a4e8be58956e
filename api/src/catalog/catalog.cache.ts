// Read-through cache for public catalog and course pages, in Redis. Entries are keyed under a
// generation number; any change to a course, module, lesson or review bumps the generation, which
// orphans every entry at once (they expire by TTL). A reader takes the generation *before* it reads
// the database, so a read racing a write can only store its result under the old generation.
// Without Redis (or while it fails) reads go straight to the database.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';

const GENERATION_KEY = 'catalog:gen';
const TTL_SECONDS = 60;

export interface CatalogCache {
  read<T>(scope: string, params: unknown, load: () => Promise<T>): Promise<T>;
  /** Call after the change has committed. */
  invalidate(): Promise<void>;
}

export function createCatalogCache(ctx: AppContext): CatalogCache {
  const { redis, log } = ctx;
  let lastWarn = 0;
  const warn = (err: unknown): void => {
    if (Date.now() - lastWarn < 10_000) return;
    lastWarn = Date.now();
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'catalog cache unavailable; reading the database');
  };

  return {
    async read(scope, params, load) {
      if (!redis) return load();
      const digest = createHash('sha256').update(JSON.stringify(params)).digest('base64url').slice(0, 32);
      let key: string | null = null;
      try {
        const gen = (await redis.get(GENERATION_KEY)) ?? '0';
        key = `catalog:${gen}:${scope}:${digest}`;
        const hit = await redis.get(key);
        if (hit !== null) return JSON.parse(hit);
      } catch (err) {
        warn(err);
        return load();
      }
      const value = await load();
      redis.set(key, JSON.stringify(value), 'EX', TTL_SECONDS).catch(warn);
      return value;
    },
    async invalidate() {
      if (!redis) return;
      try {
        await redis.incr(GENERATION_KEY);
      } catch (err) {
        // Entries then live out their TTL: log loudly, the write itself has committed.
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'catalog cache invalidation failed');
      }
    },
  };
}
