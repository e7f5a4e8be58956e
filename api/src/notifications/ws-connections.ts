// The per-user cap on open WebSockets, counted across every API instance: each socket is a member
// of a Redis sorted set per user, scored by when it expires unless its heartbeat refreshes it, so
// a crashed instance's sockets stop counting by themselves. Acquire is one atomic script. Without
// Redis (unset, or down) the count falls back to this instance's own sockets.
import type { Redis } from 'ioredis';

export interface ConnectionRegistry {
  /** Registers the socket unless the user already has `cap` open; false then. */
  acquire(userId: string, socketId: string): Promise<boolean>;
  /** Keeps a live socket counted (call on each heartbeat). */
  refresh(userId: string, socketId: string): Promise<void>;
  release(userId: string, socketId: string): Promise<void>;
}

const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export function createConnectionRegistry(
  redis: Redis | null,
  opts: { cap: number; ttlMs: number },
): ConnectionRegistry {
  const local = new Map<string, Set<string>>();
  const key = (userId: string) => `ws:conn:${userId}`;
  const addLocal = (userId: string, socketId: string) => {
    let set = local.get(userId);
    if (!set) local.set(userId, (set = new Set()));
    if (set.size >= opts.cap) return false;
    set.add(socketId);
    return true;
  };
  return {
    async acquire(userId, socketId) {
      if (redis) {
        try {
          const now = Date.now();
          const ok =
            (await redis.eval(
              ACQUIRE,
              1,
              key(userId),
              now,
              opts.cap,
              now + opts.ttlMs,
              socketId,
              opts.ttlMs,
            )) === 1;
          if (ok) local.set(userId, (local.get(userId) ?? new Set()).add(socketId));
          return ok;
        } catch {
          // Redis down: count this instance's sockets only.
        }
      }
      return addLocal(userId, socketId);
    },
    async refresh(userId, socketId) {
      if (!redis) return;
      try {
        await redis.zadd(key(userId), 'XX', Date.now() + opts.ttlMs, socketId);
        await redis.pexpire(key(userId), opts.ttlMs);
      } catch {
        // The entry expires on its own if Redis stays away.
      }
    },
    async release(userId, socketId) {
      const set = local.get(userId);
      set?.delete(socketId);
      if (set && set.size === 0) local.delete(userId);
      if (!redis) return;
      try {
        await redis.zrem(key(userId), socketId);
      } catch {
        // Expires by itself.
      }
    },
  };
}
