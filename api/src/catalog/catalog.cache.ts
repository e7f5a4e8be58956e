// Read-through cache for the public catalog and course pages, in two tiers: this process's memory
// and Redis. Entries are keyed under a generation number; any change to a course, module, lesson or
// review bumps the generation in Redis and publishes it, which orphans every entry at once (they
// expire by TTL). A reader takes the generation *before* it reads the database, so a read racing a
// write can only store its result under the old generation.
//
// The memory tier answers without a network round trip. It is used only while this process is
// subscribed to the invalidation channel and knows the current generation; other replicas see a
// change within the time Redis takes to deliver one message, this one at once. Without Redis (or
// while it fails) reads go straight to the database.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AppContext } from '../context.ts';

const GENERATION_KEY = 'catalog:gen';
const TTL_SECONDS = 60;
const LOCAL_MAX_ENTRIES = 1000;

export interface CatalogCache {
  /** The value as UTF-8 JSON, from a cache tier or from `load` (then stored); sent to clients as it is. */
  readJson(scope: string, params: unknown, load: () => Promise<unknown>): Promise<Buffer>;
  /** Call after the change has committed. */
  invalidate(): Promise<void>;
  close(): Promise<void>;
}

export function createCatalogCache(ctx: AppContext): CatalogCache {
  const { redis, log } = ctx;
  let lastWarn = 0;
  const warn = (err: unknown): void => {
    if (Date.now() - lastWarn < 10_000) return;
    lastWarn = Date.now();
    log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'catalog cache unavailable; reading the database',
    );
  };

  // Memory tier: valid only while `generation` is known (subscribed and fetched after subscribing).
  let generation: number | null = null;
  // The highest generation seen: a late message about an older one never re-enables stale copies.
  let highest = 0;
  const local = new Map<string, { json: Buffer; expires: number }>();
  const adopt = (gen: number): void => {
    if (gen < highest || gen === generation) return;
    highest = gen;
    generation = gen;
    local.clear();
  };
  const forget = (): void => {
    generation = null;
    local.clear();
  };

  let subscriber: Redis | null = null;
  const channel = `${redis?.options.keyPrefix ?? ''}catalog:invalidated`;
  if (redis) {
    subscriber = redis.duplicate({ enableOfflineQueue: true, keyPrefix: '' });
    subscriber.on('error', warn);
    subscriber.on('close', forget);
    subscriber.on('message', (_channel: string, message: string) => {
      const gen = Number(message);
      if (Number.isSafeInteger(gen)) adopt(gen);
    });
    subscriber.on('ready', () => {
      subscriber!
        .subscribe(channel)
        .then(() => redis.get(GENERATION_KEY))
        .then((gen) => adopt(Number(gen ?? 0)))
        .catch(warn);
    });
  }

  const toJson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const digest = (params: unknown): string =>
    createHash('sha256').update(JSON.stringify(params)).digest('base64url').slice(0, 32);

  return {
    async readJson(scope, params, load) {
      if (!redis) return toJson(await load());
      // The memory tier keys on the parameters' JSON itself; Redis keys on its digest.
      const id = `${scope}:${JSON.stringify(params)}`;
      let gen = generation;
      if (gen !== null) {
        const hit = local.get(`${gen}:${id}`);
        if (hit && hit.expires > Date.now()) return hit.json;
      }
      let key: string;
      try {
        if (gen === null) gen = Number((await redis.get(GENERATION_KEY)) ?? 0);
        key = `catalog:${gen}:${scope}:${digest(params)}`;
        const hit = await redis.getBuffer(key);
        if (hit !== null) {
          remember(gen, id, hit);
          return hit;
        }
      } catch (err) {
        warn(err);
        return toJson(await load());
      }
      const json = toJson(await load());
      remember(gen, id, json);
      redis.set(key, json, 'EX', TTL_SECONDS).catch(warn);
      return json;
    },

    async invalidate() {
      if (!redis) return;
      // This process stops serving its copies at once, whatever Redis says next.
      forget();
      try {
        const gen = await redis.incr(GENERATION_KEY);
        highest = Math.max(highest, gen);
        await redis.publish(channel, String(gen));
      } catch (err) {
        // Redis entries then live out their TTL: log loudly, the write itself has committed.
        log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'catalog cache invalidation failed',
        );
      }
    },

    async close() {
      subscriber?.disconnect();
      forget();
    },
  };

  function remember(gen: number, id: string, json: Buffer): void {
    if (generation !== gen) return;
    if (local.size >= LOCAL_MAX_ENTRIES) local.delete(local.keys().next().value!);
    local.set(`${gen}:${id}`, { json, expires: Date.now() + TTL_SECONDS * 1000 });
  }
}
