import { env } from '$env/dynamic/public';
import type { Me } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

export interface Rewards {
  decimals: number;
  balance: string;
  balance_display: string;
  addresses: { address: string; kind: 'current' | 'custodial'; balance: string }[];
  pending: { intent_id: string; amount: string; reason: string | null; status: string; created_at: string }[];
  history: {
    event_id: string;
    kind: string;
    direction: 'in' | 'out' | 'self';
    amount: string;
    amount_display: string;
    reason: string | null;
    from: string | null;
    to: string | null;
    ledger: number;
    ledger_closed_at: string;
    tx_hash: string;
  }[];
  next_cursor: string | null;
}

export const load: PageServerLoad = async (event) => {
  const me: Me = await requireUser(event);
  const rewards = await event.locals.api
    .get<Rewards>(paths.rewards, { cursor: event.url.searchParams.get('cursor') ?? undefined })
    .catch(() => null);
  return {
    me: { stellar_address: me.stellar_address, wallet_kind: me.wallet_kind },
    rewards,
    network: env.PUBLIC_STELLAR_NETWORK || 'local',
  };
};
