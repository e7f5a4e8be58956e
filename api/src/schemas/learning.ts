import Type from 'typebox';
import { UuidSchema } from './common.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ChainStatusSchema = Type.Union(
  [Type.Literal('pending'), Type.Literal('submitted'), Type.Literal('confirmed'), Type.Literal('failed')],
  {
    description:
      'pending: queued or being signed; submitted: sent, awaiting the ledger; confirmed: the indexer saw its event; failed: an operator will retry',
  },
);

export const ChainStateSchema = Type.Object({
  status: ChainStatusSchema,
  tx_hash: Nullable(Type.String()),
  ledger: Nullable(Type.Integer()),
  updated_at: DateTime,
});

export const CertificateStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('confirmed'),
  Type.Literal('revoked'),
]);

export const CertificateSummarySchema = Type.Object({
  id: UuidSchema,
  status: CertificateStatusSchema,
  document_hash: Hex64,
  issued_at: DateTime,
  chain: Nullable(ChainStateSchema),
  revocation: Nullable(
    Type.Object({ revoked_at: DateTime, reason: Nullable(Type.String()), chain: Nullable(ChainStateSchema) }),
  ),
});

export const CourseChainStateSchema = Type.Object({
  course_id: UuidSchema,
  percent: Type.Integer({ minimum: 0, maximum: 100 }),
  completed_at: Nullable(DateTime),
  progress_chain: Nullable(
    Type.Object({
      percent: Type.Integer(),
      status: ChainStatusSchema,
      tx_hash: Nullable(Type.String()),
      ledger: Nullable(Type.Integer()),
      updated_at: DateTime,
    }),
  ),
  onchain_percent: Nullable(Type.Integer()),
  certificate: Nullable(CertificateSummarySchema),
});

export const CompletionSchema = Type.Object(
  {
    lesson_id: UuidSchema,
    lesson_completed_at: DateTime,
    course_id: UuidSchema,
    percent: Type.Integer({ minimum: 0, maximum: 100 }),
    completed_at: Nullable(DateTime),
    certificate: Nullable(CertificateSummarySchema),
  },
  {
    description:
      'The course state after the completion; the on-chain progress is at GET /v1/me/progress/{courseId}',
  },
);

export const MyProgressSchema = Type.Object({
  courses: Type.Array(
    Type.Object({
      title: Type.String(),
      status: Type.String(),
      ...CourseChainStateSchema.properties,
    }),
  ),
});

export const CourseIdParamsSchema = Type.Object({ courseId: UuidSchema }, { additionalProperties: false });
