import Type from 'typebox';
import { StellarAddressSchema } from './common.ts';

export const EmailSchema = Type.String({ format: 'email', maxLength: 254 });
export const PasswordSchema = Type.String({
  minLength: 10,
  maxLength: 256,
  description: 'At least 10 characters',
});
export const DisplayNameSchema = Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' });

export const RegisterBodySchema = Type.Object(
  {
    email: EmailSchema,
    password: PasswordSchema,
    display_name: DisplayNameSchema,
    ref: Type.Optional(Type.String({ pattern: '^[A-Za-z2-9]{8}$', description: 'A referral code' })),
  },
  { additionalProperties: false },
);

export const LoginBodySchema = Type.Object(
  { email: EmailSchema, password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const MfaLoginBodySchema = Type.Object(
  {
    mfa_token: Type.String({ minLength: 1, maxLength: 2048 }),
    code: Type.String({ minLength: 6, maxLength: 16, description: 'A 6-digit TOTP code or a recovery code' }),
  },
  { additionalProperties: false },
);

export const RefreshBodySchema = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const LogoutBodySchema = Type.Object(
  { refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export const SessionSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  user_id: Type.String(),
});

export const LoginResponseSchema = Type.Union([
  SessionSchema,
  Type.Object({ mfa_required: Type.Literal(true), mfa_token: Type.String() }),
]);

export const MfaCodeBodySchema = Type.Object(
  { code: Type.String({ minLength: 6, maxLength: 16 }) },
  { additionalProperties: false },
);

export const MfaSetupResponseSchema = Type.Object({
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_svg: Type.String(),
  qr_data_url: Type.String(),
});

export const RecoveryCodesSchema = Type.Object({ recovery_codes: Type.Array(Type.String()) });

export const StellarChallengeQuerySchema = Type.Object(
  {
    account: StellarAddressSchema,
    home_domain: Type.Optional(
      Type.String({ maxLength: 255, description: 'SEP-10: must be this server’s home domain when given' }),
    ),
    client_domain: Type.Optional(
      Type.String({
        maxLength: 255,
        description: 'SEP-10 client attribution: not supported, refused with 400',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StellarChallengeSchema = Type.Object({
  transaction: Type.String({ description: 'The challenge transaction envelope, base64 XDR' }),
  network_passphrase: Type.String(),
});

export const StellarTokenBodySchema = Type.Object(
  {
    transaction: Type.String({
      minLength: 1,
      maxLength: 20_000,
      description: 'The signed challenge, base64 XDR',
    }),
  },
  { additionalProperties: false },
);

export const LinkedWalletSchema = Type.Object({
  stellar_address: StellarAddressSchema,
  wallet_kind: Type.Literal('external'),
});
