// A WebSocket token opens one connection: its jti is consumed atomically in Redis (shared by every
// replica). When Redis is unavailable the check falls back to this process's memory.
import type { Redis } from 'ioredis';

export interface TicketStore {
  /** True the first time a jti is presented, false after. */
  consume(jti: string, ttlMs: number): Promise<boolean>;
}

export function createTicketStore(redis: Redis | null): TicketStore {
  const local = new Map<string, number>();
  const consumeLocally = (jti: string, ttlMs: number) => {
    const now = Date.now();
    for (const [k, exp] of local) if (exp < now) local.delete(k);
    if (local.has(jti)) return false;
    local.set(jti, now + ttlMs);
    return true;
  };
  return {
    async consume(jti, ttlMs) {
      if (redis) {
        try {
          return (await redis.set(`wsjti:${jti}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
        } catch {
          // Redis down: fall through to this process's memory.
        }
      }
      return consumeLocally(jti, ttlMs);
    },
  };
}
