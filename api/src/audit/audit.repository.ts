// Append-only audit trail: callers write it inside the transaction that makes the change.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import type { Principal } from '../auth/principal.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export interface AuditEntry {
  actor: Principal | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  requestId?: string | null;
  data?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  const actor = entry.actor;
  await db
    .insertInto('audit_log')
    .values({
      actor_type: actor ? (actor.kind === 'user' ? 'user' : 'api_key') : 'anonymous',
      actor_id: actor ? (actor.kind === 'user' ? actor.userId : actor.keyId) : null,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId ?? null,
      request_id: entry.requestId ?? null,
      data: JSON.stringify(entry.data ?? {}),
    })
    .execute();
}

export async function findAuditEntries(db: Db, targetType: string, targetId: string) {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('target_type', '=', targetType)
    .where('target_id', '=', targetId)
    .orderBy('id')
    .execute();
}
