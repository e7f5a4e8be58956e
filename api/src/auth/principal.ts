import type { UserRole } from '@starling/migrations';

export type Scope = 'read' | 'write' | 'operator';

export type Principal =
  | { kind: 'user'; userId: string; role: UserRole; jti: string; expiresAt: number }
  | { kind: 'api_key'; keyId: string; scopes: readonly Scope[]; createdBy: string };

/** The id idempotency keys and rate limits are scoped to. */
export function principalId(p: Principal): string {
  return p.kind === 'user' ? `user:${p.userId}` : `key:${p.keyId}`;
}
