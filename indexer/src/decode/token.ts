import { ROLE_EVENTS, type EventSpec } from './spec.ts';

// `transfer` carries a bare i128, or {amount, to_muxed_id} to a muxed destination; the decoder
// tries the single form first and then this map form (see decodeEvent).
export const TRANSFER_MUXED: EventSpec = {
  topics: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
  ],
  data: {
    map: [
      { name: 'amount', type: 'i128' },
      { name: 'to_muxed_id', type: 'u64' },
    ],
  },
};

export const TOKEN_EVENTS: Record<string, EventSpec> = {
  ...ROLE_EVENTS,
  transfer: {
    topics: [
      { name: 'from', type: 'address' },
      { name: 'to', type: 'address' },
    ],
    data: { single: { name: 'amount', type: 'i128' } },
  },
  approve: {
    topics: [
      { name: 'owner', type: 'address' },
      { name: 'spender', type: 'address' },
    ],
    data: {
      map: [
        { name: 'amount', type: 'i128' },
        { name: 'live_until_ledger', type: 'u32' },
      ],
    },
  },
  mint: { topics: [{ name: 'to', type: 'address' }], data: { map: [{ name: 'amount', type: 'i128' }] } },
  burn: { topics: [{ name: 'from', type: 'address' }], data: { map: [{ name: 'amount', type: 'i128' }] } },
  reward_minted: {
    topics: [
      { name: 'to', type: 'address' },
      { name: 'reason', type: 'symbol' },
    ],
    data: {
      map: [
        { name: 'amount', type: 'i128' },
        { name: 'minter', type: 'address' },
      ],
    },
  },
  delegate_changed: {
    topics: [{ name: 'delegator', type: 'address' }],
    data: {
      map: [
        { name: 'from_delegate', type: 'address', optional: true },
        { name: 'to_delegate', type: 'address' },
      ],
    },
  },
  delegate_votes_changed: {
    topics: [{ name: 'delegate', type: 'address' }],
    data: {
      map: [
        { name: 'previous_votes', type: 'u128' },
        { name: 'new_votes', type: 'u128' },
      ],
    },
  },
};
