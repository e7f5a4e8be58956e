import Type from 'typebox';
import { StellarAddressSchema } from './common.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Votes = Type.String({ pattern: '^[0-9]+$', description: 'BST votes in base units (7 decimals)' });
const ProposalId = Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'The contract’s proposal id' });
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ProposalStatusSchema = Type.Union(
  [Type.Literal('active'), Type.Literal('closed'), Type.Literal('executed')],
  {
    description:
      'active: votes accepted (the chain’s latest ledger ≤ end_ledger); closed: voting over, not executed; executed: passed and executed on chain',
  },
);

export const ProposalSchema = Type.Object({
  id: ProposalId,
  contract_id: Type.String(),
  proposer: Type.String(),
  title: Type.String(),
  description_hash: Hash,
  snapshot_ledger: Type.Integer(),
  end_ledger: Type.Integer(),
  created_ledger: Type.Integer(),
  /** Ledgers until voting closes (0 once closed); null when the chain could not be asked. */
  ledgers_left: Nullable(Type.Integer({ minimum: 0 })),
  votes_for: Votes,
  votes_against: Votes,
  executed: Type.Boolean(),
  status: ProposalStatusSchema,
  tx_hash: Type.String(),
});

export const ProposalPageSchema = Type.Object({
  proposals: Type.Array(ProposalSchema),
  latest_ledger: Nullable(Type.Integer()),
  next_cursor: Nullable(Type.String()),
});

export const VoteSchema = Type.Object({
  voter: Type.String(),
  support: Type.Boolean(),
  weight: Votes,
  ledger: Type.Integer(),
});

export const ProposalDetailSchema = Type.Object({
  proposal: ProposalSchema,
  /** Once voting closed, the contract's verdict (quorum and majority); null while active or unknown. */
  outcome: Nullable(Type.Union([Type.Literal('succeeded'), Type.Literal('defeated')])),
  description: Nullable(
    Type.Object({
      text: Type.String(),
      sha256: Hash,
    }),
    // No text when nobody stored the one whose SHA-256 the chain holds.
  ),
  votes: Type.Array(VoteSchema),
  votes_next_cursor: Nullable(Type.String()),
  latest_ledger: Nullable(Type.Integer()),
});

export const ProposalParamsSchema = Type.Object({ id: ProposalId }, { additionalProperties: false });

export const VotesQuerySchema = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);

export const GovernanceMeSchema = Type.Object({
  address: StellarAddressSchema,
  wallet_kind: Type.Union([Type.Literal('custodial'), Type.Literal('external')]),
  /** Whether this user signs governance transactions with their own wallet. */
  can_sign: Type.Boolean(),
  /** Current BST votes; null for custodial wallets or when the chain could not be asked. */
  votes: Nullable(Votes),
  delegate: Nullable(Type.String()),
  /** True when the wallet holds no votes because it has not delegated to itself yet. */
  needs_delegation: Type.Boolean(),
  network_passphrase: Type.String(),
});

export const VoteBodySchema = Type.Object({ support: Type.Boolean() }, { additionalProperties: false });

export const ProposeBodySchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.String({ minLength: 1, maxLength: 20000 }),
    voting_period: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: 'Ledgers votes are accepted for (about 5 s each); the contract sets the bounds',
    }),
  },
  { additionalProperties: false },
);

export const EmptyBodySchema = Type.Object({}, { additionalProperties: false });

export const GovernanceActionSchema = Type.Union([
  Type.Literal('vote'),
  Type.Literal('propose'),
  Type.Literal('execute'),
  Type.Literal('delegate'),
]);

export const PreparedTransactionSchema = Type.Object({
  action: GovernanceActionSchema,
  /** Unsigned transaction envelope (base64 XDR), simulated and assembled: sign it with the wallet. */
  transaction: Type.String(),
  tx_hash: Hash,
  network_passphrase: Type.String(),
  valid_until: Type.String({ format: 'date-time' }),
  description_hash: Type.Optional(Hash),
});

export const RelayBodySchema = Type.Object(
  {
    transaction: Type.String({ minLength: 1, maxLength: 20000, description: 'Signed envelope (base64 XDR)' }),
  },
  { additionalProperties: false },
);

export const RelayResultSchema = Type.Object({
  action: GovernanceActionSchema,
  tx_hash: Hash,
  status: Type.Union([Type.Literal('success'), Type.Literal('failed'), Type.Literal('pending')]),
  ledger: Nullable(Type.Integer()),
  /** Why it failed, in words; null unless failed. */
  error: Nullable(Type.String()),
  /** Why it failed, for programs: state_archived means prepare and sign it again. */
  error_code: Nullable(Type.String()),
});
