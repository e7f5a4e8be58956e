// My BST: balance across my addresses and the reward/transfer history, from indexed events, plus
// rewards still on their way (mint intents not yet confirmed).
import type { AppContext } from '../context.ts';
import { badRequest } from '../errors.ts';
import { formatBst } from '../notifications/notifications.repository.ts';
import { chainStatusOf } from '../intents/chain-status.ts';
import {
  findBalances,
  findUserAddresses,
  listOpenRewardIntents,
  listTransfers,
} from './rewards.repository.ts';

export const BST_DECIMALS = 7;

function encodeCursor(eventId: string): string {
  return Buffer.from(`e:${eventId}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString();
  if (!/^e:[0-9A-Za-z-]{1,64}$/.test(raw))
    throw badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');
  return raw.slice(2);
}

export function createRewardsService(ctx: AppContext) {
  const { db } = ctx;
  return {
    async myRewards(userId: string, limit: number, cursor?: string) {
      const before = cursor ? decodeCursor(cursor) : undefined;
      const addresses = await findUserAddresses(db, userId);
      const list = addresses.map((a) => a.address);
      const [balances, transfers, open] = await Promise.all([
        findBalances(db, list),
        listTransfers(db, ctx.config.TOKEN_CONTRACT_ID, list, limit + 1, before),
        listOpenRewardIntents(db, userId),
      ]);
      const byAddress = new Map(balances.map((b) => [b.address, b.balance]));
      const total = list.reduce((sum, a) => sum + BigInt(byAddress.get(a) ?? '0'), 0n).toString();
      const page = transfers.slice(0, limit);
      const mine = new Set(list);
      const last = page.at(-1);
      return {
        decimals: BST_DECIMALS,
        balance: total,
        balance_display: formatBst(total),
        addresses: addresses.map((a) => ({ ...a, balance: String(byAddress.get(a.address) ?? '0') })),
        pending: open.map((i) => {
          const args = i.args as { amount?: string; reason?: string };
          return {
            intent_id: i.id,
            amount: String(args.amount ?? '0'),
            reason: args.reason ?? null,
            status: chainStatusOf(i) ?? 'pending',
            created_at: i.created_at.toISOString(),
          };
        }),
        history: page.map((t) => {
          const incoming = t.to_address !== null && mine.has(t.to_address);
          const outgoing = t.from_address !== null && mine.has(t.from_address);
          return {
            event_id: t.event_id,
            kind: t.kind,
            direction: incoming && outgoing ? 'self' : incoming ? 'in' : 'out',
            amount: String(t.amount),
            amount_display: formatBst(String(t.amount)),
            reason: t.reason,
            from: t.from_address,
            to: t.to_address,
            ledger: t.ledger,
            ledger_closed_at: t.ledger_closed_at.toISOString(),
            tx_hash: t.tx_hash,
          };
        }),
        next_cursor: transfers.length > limit && last ? encodeCursor(last.event_id) : null,
      };
    },
  };
}

export type RewardsService = ReturnType<typeof createRewardsService>;
