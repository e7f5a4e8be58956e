// Operators: the intent queue (list by status, see errors and attempts, retry a failed one) and
// the indexer's state as it writes it to Postgres; plus the public one-line health summary.
import type { AppContext } from '../context.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import {
  countIntentsByStatus,
  findIntent,
  listIntents,
  lockIntent,
  requeueIntent,
  type IntentKind,
  type IntentRow,
  type IntentStatus,
} from '../intents/intents.repository.ts';
import { findIndexerState, listStatusSamples } from './ops.repository.ts';

/** An indexer that has not written its state for this long is reported as stale. */
export const INDEXER_STALE_SECONDS = 60;
/** The indexer samples its status at most every 5 s (migration 0007); a chart needs no more points than this. */
export const HISTORY_SAMPLE_SECONDS = 5;
export const HISTORY_MAX_POINTS = 360;

function encodeCursor(id: string): string {
  return Buffer.from(`i:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString();
  if (!/^i:\d{1,19}$/.test(raw))
    throw badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');
  return raw.slice(2);
}

export function intentView(i: IntentRow) {
  return {
    id: i.id,
    kind: i.kind,
    idempotency_key: i.idempotency_key,
    user_id: i.user_id,
    course_id: i.course_id,
    certificate_id: i.certificate_id,
    args: i.args as Record<string, unknown>,
    status: i.status,
    attempts: i.attempts,
    last_error: i.last_error,
    tx_hash: i.tx_hash,
    source_account: i.source_account,
    next_attempt_at: i.next_attempt_at.toISOString(),
    submitted_at: i.submitted_at?.toISOString() ?? null,
    confirmed_at: i.confirmed_at?.toISOString() ?? null,
    confirmed_ledger: i.confirmed_ledger,
    created_at: i.created_at.toISOString(),
    updated_at: i.updated_at.toISOString(),
  };
}

export function createOpsService(ctx: AppContext) {
  const { db } = ctx;

  async function indexer() {
    const state = await findIndexerState(db);
    if (!state) return null;
    const ageSeconds = Math.max(0, (Date.now() - state.updated_at.getTime()) / 1000);
    return { state, ageSeconds, stale: ageSeconds > INDEXER_STALE_SECONDS };
  }

  return {
    async listIntents(q: { status?: IntentStatus; kind?: IntentKind; limit: number; cursor?: string }) {
      const rows = await listIntents(db, {
        status: q.status,
        kind: q.kind,
        limit: q.limit + 1,
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        intents: page.map(intentView),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last.id) : null,
      };
    },

    async getIntent(id: string) {
      const row = await findIntent(db, id);
      if (!row) throw notFound('intent_not_found', 'No intent with that id.');
      return intentView(row);
    },

    /** Only a failed intent goes back to pending; its stored transaction is resolved first by the submitter. */
    async retryIntent(actor: Principal, id: string, requestId: string) {
      return db.transaction().execute(async (tx) => {
        const row = await lockIntent(tx, id);
        if (!row) throw notFound('intent_not_found', 'No intent with that id.');
        if (row.status !== 'failed')
          throw conflict(
            'intent_not_failed',
            `Only failed intents can be retried; this one is ${row.status}.`,
            { intent_status: row.status },
          );
        const updated = (await requeueIntent(tx, id))!;
        await recordAudit(tx, {
          actor,
          action: 'intent.retried',
          targetType: 'intent',
          targetId: id,
          requestId,
          data: { kind: row.kind, attempts: row.attempts, last_error: row.last_error },
        });
        return intentView(updated);
      });
    },

    async indexerStatus() {
      const [ix, counts] = await Promise.all([indexer(), countIntentsByStatus(db)]);
      const s = ix?.state;
      return {
        status: s ? (ix.stale ? 'stale' : s.status) : 'unknown',
        status_detail: s?.status_detail ?? (s ? null : 'The indexer has not reported yet.'),
        network: s?.network ?? ctx.config.STELLAR_NETWORK,
        cursor: s?.cursor ?? null,
        last_ledger: s?.last_ledger ?? null,
        last_ledger_closed_at: s?.last_ledger_closed_at?.toISOString() ?? null,
        latest_rpc_ledger: s?.latest_rpc_ledger ?? null,
        oldest_rpc_ledger: s?.oldest_rpc_ledger ?? null,
        lag_ledgers: s?.lag_ledgers ?? null,
        lag_seconds: s?.lag_seconds ?? null,
        leader: s?.leader ?? null,
        caught_up: s?.caught_up ?? false,
        retention_headroom_ledgers: s?.retention_headroom_ledgers ?? null,
        start_ledger: s?.start_ledger ?? null,
        last_error: s?.last_error ?? null,
        last_error_at: s?.last_error_at?.toISOString() ?? null,
        rpc_errors: s ? String(s.rpc_errors) : '0',
        rebuilt_at: s?.rebuilt_at?.toISOString() ?? null,
        rebuilt_ledger: s?.rebuilt_ledger ?? null,
        events_ingested: s ? String(s.events_ingested) : '0',
        updated_at: s?.updated_at.toISOString() ?? null,
        seconds_since_update: ix ? Math.round(ix.ageSeconds) : null,
        intents: counts,
      };
    },

    /** The indexer's recent status, downsampled to at most HISTORY_MAX_POINTS points for a chart. */
    async indexerHistory(minutes: number) {
      const windowSeconds = minutes * 60;
      const bucketSeconds = Math.max(HISTORY_SAMPLE_SECONDS, Math.ceil(windowSeconds / HISTORY_MAX_POINTS));
      const rows = await listStatusSamples(db, windowSeconds, bucketSeconds);
      return {
        window_seconds: windowSeconds,
        bucket_seconds: bucketSeconds,
        samples: rows.map((r) => ({
          at: r.at.toISOString(),
          status: r.status,
          lag_ledgers: r.lag_ledgers,
          lag_seconds: r.lag_seconds,
          last_ledger: r.last_ledger,
          latest_rpc_ledger: r.latest_rpc_ledger,
          events_ingested: String(r.events_ingested),
        })),
      };
    },

    /** One public line: is the platform recording to the chain right now? No internals. */
    async publicStatus() {
      const ix = await indexer();
      const s = ix?.state;
      const healthy = s && !ix.stale && ['following', 'catching_up'].includes(s.status);
      const status = !s
        ? 'unknown'
        : healthy
          ? s.status === 'following'
            ? 'operational'
            : 'catching_up'
          : 'degraded';
      const messages: Record<string, string> = {
        operational: 'All systems operational.',
        catching_up: 'Chain confirmations are catching up; they may take a little longer.',
        degraded: 'Chain confirmations are delayed; learning continues and nothing is lost.',
        unknown: 'Chain indexer status is not available yet.',
      };
      return {
        status,
        message: messages[status]!,
        network: s?.network ?? ctx.config.STELLAR_NETWORK,
        last_ledger: s?.last_ledger ?? null,
        lag_ledgers: s?.lag_ledgers ?? null,
        updated_at: s?.updated_at.toISOString() ?? null,
      };
    },
  };
}

export type OpsService = ReturnType<typeof createOpsService>;
