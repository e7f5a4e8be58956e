import Type from 'typebox';
import { UuidSchema } from './common.ts';
import { CertificateStatusSchema, CertificateSummarySchema } from './learning.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const MyCertificatesSchema = Type.Object({
  certificates: Type.Array(
    Type.Object({
      ...CertificateSummarySchema.properties,
      course: Type.Object({ id: UuidSchema, title: Type.String(), slug: Type.String() }),
      verify_url: Type.String(),
    }),
  ),
  next_cursor: Nullable(Type.String()),
});

export const CredentialSchema = Type.Object(
  {
    id: UuidSchema,
    status: CertificateStatusSchema,
    learner: Type.Object({ name: Type.String(), address: Type.String() }),
    course: Type.Object({ id: UuidSchema, title: Type.String(), slug: Type.String() }),
    issued_at: DateTime,
    confirmed_at: Nullable(DateTime),
    revoked_at: Nullable(DateTime),
    revoke_reason: Nullable(Type.String()),
    document: Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'The certificate document; its canonical bytes are at links.document',
      },
    ),
    document_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    hash_algorithm: Type.String(),
    chain: Nullable(
      Type.Object({
        network: Type.String(),
        contract_id: Nullable(Type.String()),
        certificate_id: Type.String({ description: 'The certificate contract’s u64 id' }),
        tx_hash: Nullable(Type.String()),
        ledger: Nullable(Type.Integer()),
        ledger_closed_at: Nullable(DateTime),
      }),
    ),
    revocation_chain: Nullable(
      Type.Object({
        tx_hash: Type.String(),
        ledger: Nullable(Type.Integer()),
        ledger_closed_at: Nullable(DateTime),
      }),
    ),
    links: Type.Object({
      verify: Type.String(),
      document: Type.String(),
      pdf: Type.String(),
      badge: Type.String(),
    }),
  },
  {
    description:
      'A certificate as a verifier sees it: status, document and hash, and the chain proof once indexed',
  },
);

export const OpenBadgeSchema = Type.Object(
  {
    '@context': Type.Array(Type.String()),
    id: Type.String(),
    type: Type.Array(Type.String()),
  },
  { additionalProperties: true, description: 'Open Badges 3.0 OpenBadgeCredential' },
);

export const RevokeBodySchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' }) },
  { additionalProperties: false },
);

export const RevokedSchema = Type.Object({
  id: UuidSchema,
  status: Type.Literal('revoked'),
  revoked_at: DateTime,
  reason: Type.String(),
  intent_id: Nullable(Type.String()),
});

export const CredentialParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });
