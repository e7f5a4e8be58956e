import Type from 'typebox';
import { DisplayNameSchema } from './auth.ts';
import { StellarAddressSchema, UuidSchema } from './common.ts';

export const RoleSchema = Type.Union([
  Type.Literal('learner'),
  Type.Literal('instructor'),
  Type.Literal('admin'),
  Type.Literal('operator'),
]);
export const KycStatusSchema = Type.Union([
  Type.Literal('none'),
  Type.Literal('pending'),
  Type.Literal('verified'),
  Type.Literal('rejected'),
]);

export const MeSchema = Type.Object({
  id: UuidSchema,
  email: Type.Union([Type.String(), Type.Null()]),
  display_name: Type.String(),
  bio: Type.String(),
  role: RoleSchema,
  stellar_address: StellarAddressSchema,
  wallet_kind: Type.Union([Type.Literal('custodial'), Type.Literal('external')]),
  referral_code: Type.String(),
  referred_by: Type.Union([UuidSchema, Type.Null()]),
  kyc_status: KycStatusSchema,
  mfa_enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

export const PublicUserSchema = Type.Object({
  id: UuidSchema,
  display_name: Type.String(),
  bio: Type.String(),
  role: RoleSchema,
  stellar_address: StellarAddressSchema,
  created_at: Type.String({ format: 'date-time' }),
});

export const UpdateMeBodySchema = Type.Object(
  {
    display_name: Type.Optional(DisplayNameSchema),
    bio: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ReferralsSchema = Type.Object({
  referral_code: Type.String(),
  referral_link: Type.String(),
  referrals: Type.Array(
    Type.Object({
      id: UuidSchema,
      display_name: Type.String(),
      joined_at: Type.String({ format: 'date-time' }),
    }),
  ),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const RoleBodySchema = Type.Object({ role: RoleSchema }, { additionalProperties: false });

export const KycSubmitBodySchema = Type.Object(
  {
    full_name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
    document_type: Type.Union([
      Type.Literal('passport'),
      Type.Literal('id_card'),
      Type.Literal('driving_licence'),
    ]),
  },
  { additionalProperties: false },
);

export const KycSubmissionSchema = Type.Object({
  id: UuidSchema,
  user_id: UuidSchema,
  status: KycStatusSchema,
  provider: Type.String(),
  full_name: Type.String(),
  country: Type.String(),
  document_type: Type.String(),
  submitted_at: Type.String({ format: 'date-time' }),
  reviewed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  review_note: Type.Union([Type.String(), Type.Null()]),
});

export const KycReviewBodySchema = Type.Object(
  {
    decision: Type.Union([Type.Literal('verified'), Type.Literal('rejected')]),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const ScopeSchema = Type.Union([
  Type.Literal('read'),
  Type.Literal('write'),
  Type.Literal('operator'),
]);

export const ApiKeyCreateBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3, uniqueItems: true }),
  },
  { additionalProperties: false },
);

export const ApiKeySchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(ScopeSchema),
  created_by: UuidSchema,
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const ApiKeyCreatedSchema = Type.Intersect([
  ApiKeySchema,
  Type.Object({ key: Type.String({ description: 'The full key. Shown once; store it now.' }) }),
]);
