import Type from 'typebox';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const IntentStatusSchema = Type.Union(
  ['pending', 'submitting', 'submitted', 'confirmed', 'failed', 'superseded'].map((s) => Type.Literal(s)),
);
export const IntentKindSchema = Type.Union(
  ['record_progress', 'issue_certificate', 'mint_reward', 'revoke_certificate'].map((s) => Type.Literal(s)),
);

export const IntentSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  idempotency_key: Type.String(),
  user_id: Nullable(Type.String()),
  course_id: Nullable(Type.String()),
  certificate_id: Nullable(Type.String()),
  args: Type.Object({}, { additionalProperties: true }),
  status: Type.String(),
  attempts: Type.Integer(),
  last_error: Nullable(Type.String()),
  tx_hash: Nullable(Type.String()),
  source_account: Nullable(Type.String()),
  next_attempt_at: DateTime,
  submitted_at: Nullable(DateTime),
  confirmed_at: Nullable(DateTime),
  confirmed_ledger: Nullable(Type.Integer()),
  created_at: DateTime,
  updated_at: DateTime,
});

export const IntentListQuerySchema = Type.Object(
  {
    status: Type.Optional(IntentStatusSchema),
    kind: Type.Optional(IntentKindSchema),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);

export const IntentListSchema = Type.Object({
  intents: Type.Array(IntentSchema),
  next_cursor: Nullable(Type.String()),
});

export const IntentIdParamsSchema = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,17}$' }) },
  { additionalProperties: false },
);

const Counts = Type.Record(Type.String(), Type.Integer());

export const IndexerStatusSchema = Type.Object({
  status: Type.String({
    description: 'As the indexer reports it (following, catching_up, retention_gap, …), or stale / unknown',
  }),
  status_detail: Nullable(Type.String()),
  network: Type.String(),
  cursor: Nullable(Type.String()),
  last_ledger: Nullable(Type.Integer()),
  last_ledger_closed_at: Nullable(DateTime),
  latest_rpc_ledger: Nullable(Type.Integer()),
  oldest_rpc_ledger: Nullable(Type.Integer()),
  lag_ledgers: Nullable(Type.Integer()),
  lag_seconds: Nullable(Type.Number()),
  leader: Nullable(Type.String()),
  caught_up: Type.Boolean(),
  retention_headroom_ledgers: Nullable(
    Type.Integer({ description: 'Ledgers left before the cursor falls out of the RPC retention window' }),
  ),
  start_ledger: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_error_at: Nullable(DateTime),
  rpc_errors: Type.String(),
  rebuilt_at: Nullable(DateTime),
  rebuilt_ledger: Nullable(Type.Integer()),
  events_ingested: Type.String(),
  updated_at: Nullable(DateTime),
  seconds_since_update: Nullable(Type.Integer()),
  intents: Counts,
});

export const IndexerHistoryQuerySchema = Type.Object(
  {
    minutes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1440, default: 60, description: 'How far back (at most 24 h)' }),
    ),
  },
  { additionalProperties: false },
);

export const IndexerHistorySchema = Type.Object({
  window_seconds: Type.Integer(),
  bucket_seconds: Type.Integer({ description: 'Each point sums up this many seconds of samples' }),
  samples: Type.Array(
    Type.Object({
      at: DateTime,
      status: Type.String(),
      lag_ledgers: Nullable(Type.Integer({ description: 'The worst lag within the bucket' })),
      lag_seconds: Nullable(Type.Number()),
      last_ledger: Nullable(Type.Integer()),
      latest_rpc_ledger: Nullable(Type.Integer()),
      events_ingested: Type.String({ description: 'Running total (int64 as a string)' }),
    }),
  ),
});

export const PublicStatusSchema = Type.Object({
  status: Type.Union([
    Type.Literal('operational'),
    Type.Literal('catching_up'),
    Type.Literal('degraded'),
    Type.Literal('unknown'),
  ]),
  message: Type.String(),
  network: Type.String(),
  last_ledger: Nullable(Type.Integer()),
  lag_ledgers: Nullable(Type.Integer()),
  updated_at: Nullable(DateTime),
});
