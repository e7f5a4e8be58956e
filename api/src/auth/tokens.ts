// JWTs: HS256 only, with iss/aud/exp/typ checked. Access, MFA-pending and WebSocket tokens carry
// different `typ` headers so none can stand in for another; refresh tokens are opaque (see auth.service).
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { UserRole } from '@starling/migrations';
import type { Config } from '../config.ts';
import { unauthorized } from '../errors.ts';

export const TOKEN_TYPES = { access: 'at+jwt', mfa: 'mfa+jwt', ws: 'ws+jwt' } as const;
export type TokenKind = keyof typeof TOKEN_TYPES;

export interface VerifiedToken {
  sub: string;
  role: UserRole;
  jti: string;
  exp: number;
}

export interface TokenService {
  sign(
    kind: TokenKind,
    sub: string,
    role: UserRole,
    ttlSeconds?: number,
  ): Promise<{ token: string; jti: string; exp: number }>;
  verify(kind: TokenKind, token: string): Promise<VerifiedToken>;
}

export function createTokenService(config: Readonly<Config>): TokenService {
  const key = new TextEncoder().encode(config.JWT_SECRET);
  const ttl: Record<TokenKind, number> = {
    access: config.ACCESS_TOKEN_TTL_SECONDS,
    mfa: config.MFA_TOKEN_TTL_SECONDS,
    ws: 60,
  };
  return {
    async sign(kind, sub, role, ttlSeconds) {
      const jti = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const exp = now + (ttlSeconds ?? ttl[kind]);
      const token = await new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPES[kind] })
        .setSubject(sub)
        .setJti(jti)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(key);
      return { token, jti, exp };
    },
    async verify(kind, token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          typ: TOKEN_TYPES[kind],
          requiredClaims: ['sub', 'jti', 'exp'],
        });
        const role = payload.role;
        if (typeof role !== 'string') throw unauthorized('invalid_token', 'The token is malformed.');
        return { sub: payload.sub!, jti: payload.jti!, exp: payload.exp!, role: role as UserRole };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired)
          throw unauthorized('token_expired', 'The token has expired.');
        if (err instanceof joseErrors.JOSEError) throw unauthorized('invalid_token', 'The token is invalid.');
        throw err;
      }
    },
  };
}
