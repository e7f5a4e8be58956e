// Sessions: access JWTs plus opaque refresh tokens that rotate on every use. Presenting a used
// refresh token revokes its whole family (RFC 9700 §4.14.2); of two concurrent refreshes of one token,
// the first wins and the second counts as reuse, which revokes the family (the row lock orders them).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Users } from '@starling/migrations';
import type { AppContext } from '../context.ts';
import { badRequest, conflict, unauthorized } from '../errors.ts';
import { recordAudit, type Db } from '../audit/audit.repository.ts';
import type { Principal } from './principal.ts';
import type { TokenService } from './tokens.ts';
import { createPasswordHasher } from './passwords.ts';
import {
  insertRefreshToken,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeAccessToken,
  revokeFamily,
} from './sessions.repository.ts';
import {
  findUserByEmail,
  findUserById,
  findUserByReferralCode,
  insertCustodialWallet,
  insertUser,
} from '../users/users.repository.ts';
import { createWalletCrypto, newCustodialKeypair } from '../wallets/custodial.ts';
import { isMfaEnabled, verifyMfaCode } from '../mfa/mfa.service.ts';

export type UserRow = Selectable<Users>;

export interface Session {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user_id: string;
}

const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Eight characters from an alphabet without look-alikes. */
export function newReferralCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(8);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function createAuthService(ctx: AppContext, tokens: TokenService) {
  const passwords = createPasswordHasher(ctx.config.ARGON2_MEMORY_KIB);
  const walletCrypto = createWalletCrypto(ctx.config);

  /** Issues an access token and a new refresh-token family; the caller owns the transaction. */
  async function issueSession(
    db: Db,
    user: Pick<UserRow, 'id' | 'role'>,
    familyId: string = randomUUID(),
  ): Promise<Session> {
    const access = await tokens.sign('access', user.id, user.role);
    const refresh = randomBytes(32).toString('base64url');
    await insertRefreshToken(db, {
      familyId,
      userId: user.id,
      tokenHash: hashToken(refresh),
      expiresAt: new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: ctx.config.ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: refresh,
      user_id: user.id,
    };
  }

  async function resolveReferrer(db: Db, code: string | undefined): Promise<string | null> {
    if (!code) return null;
    const referrer = await findUserByReferralCode(db, code.toUpperCase());
    if (!referrer) throw badRequest('unknown_referral_code', 'No user has this referral code.', 'ref');
    return referrer.id;
  }

  return {
    issueSession,
    resolveReferrer,

    async register(
      input: { email: string; password: string; display_name: string; ref?: string },
      requestId: string,
    ): Promise<{ user: UserRow; session: Session }> {
      const email = input.email.trim().toLowerCase();
      const passwordHash = await passwords.hash(input.password);
      const id = randomUUID();
      const wallet = newCustodialKeypair();
      try {
        return await ctx.db.transaction().execute(async (trx) => {
          const referredBy = await resolveReferrer(trx, input.ref);
          const user = await insertUser(trx, {
            id,
            email,
            password_hash: passwordHash,
            display_name: input.display_name.trim(),
            stellar_address: wallet.publicKey,
            wallet_kind: 'custodial',
            referral_code: newReferralCode(),
            referred_by: referredBy,
          });
          await insertCustodialWallet(trx, {
            userId: id,
            publicKey: wallet.publicKey,
            secretCiphertext: walletCrypto.encrypt(id, wallet.secret),
          });
          await recordAudit(trx, {
            actor: null,
            action: 'user.registered',
            targetType: 'user',
            targetId: id,
            requestId,
            data: { method: 'password', referred_by: referredBy, custodial_address: wallet.publicKey },
          });
          return { user, session: await issueSession(trx, user) };
        });
      } catch (err) {
        if (
          (err as { code?: string; constraint?: string }).code === '23505' &&
          (err as { constraint?: string }).constraint === 'users_email_key'
        ) {
          throw conflict('email_taken', 'An account with this email already exists.');
        }
        throw err;
      }
    },

    async login(
      input: { email: string; password: string },
      requestId: string,
    ): Promise<{ session: Session } | { mfa_required: true; mfa_token: string }> {
      const user = await findUserByEmail(ctx.db, input.email.trim());
      if (!user?.password_hash) {
        await passwords.verifyDummy(input.password);
        throw unauthorized('invalid_credentials', 'The email or password is wrong.');
      }
      if (!(await passwords.verify(user.password_hash, input.password))) {
        await recordAudit(ctx.db, {
          actor: null,
          action: 'user.login_failed',
          targetType: 'user',
          targetId: user.id,
          requestId,
        });
        throw unauthorized('invalid_credentials', 'The email or password is wrong.');
      }
      if (await isMfaEnabled(ctx.db, user.id)) {
        const mfa = await tokens.sign('mfa', user.id, user.role);
        return { mfa_required: true, mfa_token: mfa.token };
      }
      const session = await ctx.db.transaction().execute(async (trx) => {
        await recordAudit(trx, {
          actor: null,
          action: 'user.logged_in',
          targetType: 'user',
          targetId: user.id,
          requestId,
          data: { method: 'password' },
        });
        return issueSession(trx, user);
      });
      return { session };
    },

    async completeMfaLogin(input: { mfa_token: string; code: string }, requestId: string): Promise<Session> {
      const claims = await tokens.verify('mfa', input.mfa_token);
      return ctx.db.transaction().execute(async (trx) => {
        const user = await findUserById(trx, claims.sub);
        if (!user) throw unauthorized('invalid_token', 'The token is invalid.');
        await verifyMfaCode(ctx, trx, user.id, input.code, requestId);
        await recordAudit(trx, {
          actor: null,
          action: 'user.logged_in',
          targetType: 'user',
          targetId: user.id,
          requestId,
          data: { method: 'password+mfa' },
        });
        return issueSession(trx, user);
      });
    },

    async refresh(refreshToken: string, requestId: string): Promise<Session> {
      // The reuse branch must commit its revocation even though the request fails, so the
      // transaction returns an outcome instead of throwing.
      const outcome = await ctx.db.transaction().execute(async (trx) => {
        const row = await lockRefreshToken(trx, hashToken(refreshToken));
        if (!row) return { error: unauthorized('invalid_refresh_token', 'The refresh token is not valid.') };
        if (row.revoked_at)
          return {
            error: unauthorized('refresh_token_revoked', 'This session has been revoked; sign in again.'),
          };
        if (row.used_at) {
          await revokeFamily(trx, row.family_id, 'reuse_detected');
          await recordAudit(trx, {
            actor: null,
            action: 'session.reuse_detected',
            targetType: 'user',
            targetId: row.user_id,
            requestId,
            data: { family_id: row.family_id },
          });
          return {
            error: unauthorized(
              'refresh_token_reused',
              'This refresh token was already used; the session has been revoked. Sign in again.',
            ),
          };
        }
        if (row.expires_at.getTime() <= Date.now())
          return { error: unauthorized('refresh_token_expired', 'The session has expired; sign in again.') };
        const user = await findUserById(trx, row.user_id);
        if (!user) return { error: unauthorized('invalid_refresh_token', 'The refresh token is not valid.') };
        await markRefreshTokenUsed(trx, row.id);
        await recordAudit(trx, {
          actor: null,
          action: 'session.refreshed',
          targetType: 'user',
          targetId: user.id,
          requestId,
          data: { family_id: row.family_id },
        });
        return { session: await issueSession(trx, user, row.family_id) };
      });
      if ('error' in outcome) throw outcome.error;
      return outcome.session;
    },

    async logout(
      principal: Extract<Principal, { kind: 'user' }>,
      refreshToken: string | undefined,
      requestId: string,
    ): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        await revokeAccessToken(trx, principal.jti, new Date(principal.expiresAt * 1000));
        if (refreshToken) {
          const row = await lockRefreshToken(trx, hashToken(refreshToken));
          if (row && row.user_id === principal.userId) await revokeFamily(trx, row.family_id, 'logout');
        }
        await recordAudit(trx, {
          actor: principal,
          action: 'user.logged_out',
          targetType: 'user',
          targetId: principal.userId,
          requestId,
        });
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
