// Declarative event layouts (contracts/EVENTS.md): topics after the name, then the data as a
// map of fields or a single value. One table per contract lives beside its decoder.
import type { ScType } from './scval.ts';

export interface FieldSpec {
  name: string;
  type: ScType;
  optional?: boolean;
}

export interface EventSpec {
  topics: FieldSpec[];
  /** Map data (keys are Symbols) or a single value stored under `single.name`. */
  data: { map: FieldSpec[] } | { single: FieldSpec };
}

export type ContractKind = 'analytics' | 'token' | 'certificate' | 'governance';

/** OpenZeppelin stellar-access events, emitted by analytics, token and certificate. */
export const ROLE_EVENTS: Record<string, EventSpec> = {
  role_granted: {
    topics: [
      { name: 'role', type: 'symbol' },
      { name: 'account', type: 'address' },
    ],
    data: { map: [{ name: 'caller', type: 'address' }] },
  },
  role_revoked: {
    topics: [
      { name: 'role', type: 'symbol' },
      { name: 'account', type: 'address' },
    ],
    data: { map: [{ name: 'caller', type: 'address' }] },
  },
  admin_transfer_initiated: {
    topics: [{ name: 'current_admin', type: 'address' }],
    data: {
      map: [
        { name: 'new_admin', type: 'address' },
        { name: 'live_until_ledger', type: 'u32' },
      ],
    },
  },
  admin_transfer_completed: {
    topics: [{ name: 'new_admin', type: 'address' }],
    data: { map: [{ name: 'previous_admin', type: 'address' }] },
  },
  role_admin_changed: {
    topics: [{ name: 'role', type: 'symbol' }],
    data: {
      map: [
        { name: 'previous_admin_role', type: 'symbol' },
        { name: 'new_admin_role', type: 'symbol' },
      ],
    },
  },
  admin_renounced: { topics: [{ name: 'admin', type: 'address' }], data: { map: [] } },
};
