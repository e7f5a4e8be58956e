// TOTP MFA (RFC 6238): ±1 step, a step is never accepted twice, single-use recovery codes stored
// hashed. The TOTP secret is encrypted like custodial wallet secrets, bound to its owner.
import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import type { AppContext } from '../context.ts';
import { conflict, badRequest, unauthorized } from '../errors.ts';
import { recordAudit, type Db } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { createWalletCrypto } from '../wallets/custodial.ts';
import { findUserById } from '../users/users.repository.ts';
import {
  claimTotpStep,
  countUnusedRecoveryCodes,
  deleteMfa,
  findTotp,
  markTotpEnabled,
  replaceRecoveryCodes,
  upsertPendingTotp,
  useRecoveryCode,
} from './mfa.repository.ts';

const PERIOD = 30;
const RECOVERY_CODES = 10;
type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const totpAad = (userId: string): string => `totp:${userId}`;
const hashRecovery = (code: string): Buffer =>
  createHash('sha256').update(code.replace(/-/g, '').toUpperCase()).digest();

function newRecoveryCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const chars = Array.from(randomBytes(10), (b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

function totpFor(secretBase32: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'Starling',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

export async function isMfaEnabled(db: Db, userId: string): Promise<boolean> {
  const row = await findTotp(db, userId);
  return Boolean(row?.enabled_at);
}

/** Checks a TOTP or recovery code for a user with MFA set up; consumes it. Throws 401 otherwise. */
export async function verifyMfaCode(
  ctx: AppContext,
  db: Db,
  userId: string,
  code: string,
  requestId: string,
): Promise<'totp' | 'recovery'> {
  const row = await findTotp(db, userId);
  if (!row) throw badRequest('mfa_not_set_up', 'Multi-factor authentication is not set up.');
  const trimmed = code.replace(/\s/g, '');
  if (/^\d{6}$/.test(trimmed)) {
    const secret = createWalletCrypto(ctx.config).decrypt(totpAad(userId), row.secret_ciphertext);
    const now = Date.now();
    const delta = totpFor(secret, userId).validate({ token: trimmed, window: 1, timestamp: now });
    if (delta === null) throw unauthorized('invalid_mfa_code', 'The code is wrong or has expired.');
    const step = Math.floor(now / 1000 / PERIOD) + delta;
    if (!(await claimTotpStep(db, userId, step))) {
      throw unauthorized('mfa_code_reused', 'This code was already used; wait for the next one.');
    }
    return 'totp';
  }
  if (row.enabled_at && /^[A-Z2-9]{5}-?[A-Z2-9]{5}$/i.test(trimmed)) {
    if (await useRecoveryCode(db, userId, hashRecovery(trimmed))) {
      await recordAudit(db, {
        actor: null,
        action: 'mfa.recovery_code_used',
        targetType: 'user',
        targetId: userId,
        requestId,
      });
      return 'recovery';
    }
  }
  throw unauthorized('invalid_mfa_code', 'The code is wrong or has expired.');
}

export function createMfaService(ctx: AppContext) {
  const crypto = createWalletCrypto(ctx.config);

  async function issueRecoveryCodes(db: Db, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await replaceRecoveryCodes(db, userId, codes.map(hashRecovery));
    return codes;
  }

  return {
    async status(userId: string) {
      const row = await findTotp(ctx.db, userId);
      return {
        enabled: Boolean(row?.enabled_at),
        recovery_codes_left: row?.enabled_at ? await countUnusedRecoveryCodes(ctx.db, userId) : 0,
      };
    },

    async setup(principal: UserPrincipal, requestId: string) {
      return ctx.db.transaction().execute(async (trx) => {
        const user = await findUserById(trx, principal.userId);
        if (!user) throw unauthorized('unauthenticated', 'Sign in first.');
        const existing = await findTotp(trx, user.id);
        if (existing?.enabled_at)
          throw conflict(
            'mfa_already_enabled',
            'MFA is already on; disable it first to set up a new device.',
          );
        const secret = new OTPAuth.Secret({ size: 20 }).base32;
        await upsertPendingTotp(trx, user.id, crypto.encrypt(totpAad(user.id), secret));
        await recordAudit(trx, {
          actor: principal,
          action: 'mfa.setup_started',
          targetType: 'user',
          targetId: user.id,
          requestId,
        });
        const uri = totpFor(secret, user.email ?? user.stellar_address).toString();
        return {
          secret,
          otpauth_uri: uri,
          qr_svg: await QRCode.toString(uri, { type: 'svg', margin: 1 }),
          qr_data_url: await QRCode.toDataURL(uri, { margin: 1 }),
        };
      });
    },

    async enable(
      principal: UserPrincipal,
      code: string,
      requestId: string,
    ): Promise<{ recovery_codes: string[] }> {
      return ctx.db.transaction().execute(async (trx) => {
        const row = await findTotp(trx, principal.userId);
        if (!row) throw badRequest('mfa_not_set_up', 'Start the set-up first (POST /v1/me/mfa/setup).');
        if (row.enabled_at) throw conflict('mfa_already_enabled', 'MFA is already on.');
        if (!/^\d{6}$/.test(code.trim()))
          throw badRequest('invalid_mfa_code', 'Enter the 6-digit code from your app.', 'code');
        await verifyMfaCode(ctx, trx, principal.userId, code, requestId);
        await markTotpEnabled(trx, principal.userId);
        const recovery = await issueRecoveryCodes(trx, principal.userId);
        await recordAudit(trx, {
          actor: principal,
          action: 'mfa.enabled',
          targetType: 'user',
          targetId: principal.userId,
          requestId,
        });
        return { recovery_codes: recovery };
      });
    },

    async disable(principal: UserPrincipal, code: string, requestId: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const row = await findTotp(trx, principal.userId);
        if (!row?.enabled_at) throw badRequest('mfa_not_enabled', 'MFA is not on.');
        await verifyMfaCode(ctx, trx, principal.userId, code, requestId);
        await deleteMfa(trx, principal.userId);
        await recordAudit(trx, {
          actor: principal,
          action: 'mfa.disabled',
          targetType: 'user',
          targetId: principal.userId,
          requestId,
        });
      });
    },

    async regenerateRecoveryCodes(
      principal: UserPrincipal,
      code: string,
      requestId: string,
    ): Promise<{ recovery_codes: string[] }> {
      return ctx.db.transaction().execute(async (trx) => {
        const row = await findTotp(trx, principal.userId);
        if (!row?.enabled_at) throw badRequest('mfa_not_enabled', 'MFA is not on.');
        await verifyMfaCode(ctx, trx, principal.userId, code, requestId);
        const recovery = await issueRecoveryCodes(trx, principal.userId);
        await recordAudit(trx, {
          actor: principal,
          action: 'mfa.recovery_codes_regenerated',
          targetType: 'user',
          targetId: principal.userId,
          requestId,
        });
        return { recovery_codes: recovery };
      });
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
