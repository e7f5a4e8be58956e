import type { EventSpec } from './spec.ts';

export const GOVERNANCE_EVENTS: Record<string, EventSpec> = {
  proposal_created: {
    topics: [
      { name: 'id', type: 'u64' },
      { name: 'proposer', type: 'address' },
    ],
    data: {
      map: [
        { name: 'title', type: 'string' },
        { name: 'description_hash', type: 'bytes32' },
        { name: 'snapshot_ledger', type: 'u32' },
        { name: 'end_ledger', type: 'u32' },
      ],
    },
  },
  vote_cast: {
    topics: [
      { name: 'id', type: 'u64' },
      { name: 'voter', type: 'address' },
    ],
    data: {
      map: [
        { name: 'support', type: 'bool' },
        { name: 'weight', type: 'i128' },
      ],
    },
  },
  proposal_executed: {
    topics: [{ name: 'id', type: 'u64' }],
    data: {
      map: [
        { name: 'votes_for', type: 'i128' },
        { name: 'votes_against', type: 'i128' },
        { name: 'total_supply', type: 'i128' },
      ],
    },
  },
};
