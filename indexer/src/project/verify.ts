// verify: rebuild the projections from scratch into a scratch schema — from the RPC's events
// (default) or from the raw events already in chain_events — with the same projection code,
// then compare table hashes with the live tables (as Horizon's verify-range does).
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@starling/migrations';
import { createContext, type Context } from '../context.ts';
import { decodeEvent } from '../decode/index.ts';
import type { ContractKind } from '../decode/spec.ts';
import { runIngest } from '../ingest/ingest.ts';
import { withPageTransaction } from '../store/page-transaction.ts';
import { readState } from '../store/state.repository.ts';
import { projectPage, type ChainEvent } from './project.ts';

/** Compared columns: everything but bookkeeping timestamps. */
export const PROJECTION_TABLES: Record<string, { cols: string; key: string }> = {
  chain_events: {
    cols: 'id, ledger, contract_id, tx_hash, name, topics, value, topics_xdr, value_xdr',
    key: 'id',
  },
  onchain_progress: {
    cols: 'student_address, course_id, percent, ledger, event_id',
    key: 'student_address, course_id',
  },
  bst_balances: { cols: 'address, balance', key: 'address' },
  bst_supply: { cols: 'total', key: 'total' },
  chain_certificates: {
    cols: 'contract_id, certificate_id, student_address, course_id, metadata_hash, issuer, issued_ledger, revoked, revoked_ledger, revoke_reason, revoked_by',
    key: 'contract_id, certificate_id',
  },
  governance_proposals: {
    cols: 'contract_id, proposal_id, proposer, title, description_hash, snapshot_ledger, end_ledger, votes_for, votes_against, executed, executed_ledger, created_ledger, tx_hash',
    key: 'contract_id, proposal_id',
  },
  governance_votes: {
    cols: 'contract_id, proposal_id, voter, support, weight, ledger, event_id',
    key: 'contract_id, proposal_id, voter',
  },
};

export interface TableComparison {
  table: string;
  live: { rows: number; hash: string };
  rebuilt: { rows: number; hash: string };
  equal: boolean;
  onlyLive?: unknown[];
  onlyRebuilt?: unknown[];
}

export interface VerifyResult {
  source: 'rpc' | 'events';
  throughLedger: number;
  equal: boolean;
  tables: TableComparison[];
  note?: string;
}

async function tableHash(
  db: Kysely<Database>,
  schema: string,
  table: string,
  cols: string,
): Promise<{ rows: number; hash: string }> {
  const r = await sql<{ h: string; n: string }>`
    SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h, count(*)::text AS n
    FROM (SELECT ${sql.raw(cols)} FROM ${sql.table(`${schema}.${table}`)}) x`.execute(db);
  return { rows: Number(r.rows[0]!.n), hash: r.rows[0]!.h };
}

export async function compareSchemas(
  db: Kysely<Database>,
  live: string,
  scratch: string,
): Promise<TableComparison[]> {
  const out: TableComparison[] = [];
  for (const [table, { cols }] of Object.entries(PROJECTION_TABLES)) {
    const a = await tableHash(db, live, table, cols);
    const b = await tableHash(db, scratch, table, cols);
    const c: TableComparison = { table, live: a, rebuilt: b, equal: a.hash === b.hash };
    if (!c.equal) {
      const diff = async (x: string, y: string) =>
        (
          await sql`SELECT ${sql.raw(cols)} FROM ${sql.table(`${x}.${table}`)} EXCEPT ALL SELECT ${sql.raw(cols)} FROM ${sql.table(`${y}.${table}`)} LIMIT 10`.execute(
            db,
          )
        ).rows;
      c.onlyLive = await diff(live, scratch);
      c.onlyRebuilt = await diff(scratch, live);
    }
    out.push(c);
  }
  return out;
}

export async function createScratchSchema(db: Kysely<Database>): Promise<string> {
  const schema = `verify_${randomBytes(4).toString('hex')}`;
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
  for (const t of [...Object.keys(PROJECTION_TABLES), 'indexer_state']) {
    await sql`CREATE TABLE ${sql.table(`${schema}.${t}`)} (LIKE ${sql.table(`public.${t}`)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`.execute(
      db,
    );
  }
  return schema;
}

export async function runVerify(ctx: Context, opts: { source: 'rpc' | 'events' }): Promise<VerifyResult> {
  const live = await readState(ctx.db);
  if (!live || live.last_ledger === null) throw new Error('nothing ingested yet: nothing to verify');
  const through = live.last_ledger;
  const schema = await createScratchSchema(ctx.db);
  const scratch = createContext(ctx.config, { log: ctx.log, searchPath: schema, poolSize: 4 });
  try {
    await scratch.db
      .insertInto('indexer_state')
      .values({
        singleton: true,
        start_ledger: live.start_ledger,
        network: live.network,
        network_passphrase: live.network_passphrase,
        status: 'verify',
      })
      .execute();
    if (opts.source === 'rpc') {
      await runIngest(scratch, {
        signal: new AbortController().signal,
        assertLeader: async () => undefined,
        untilLedger: through,
        sideEffects: false,
      });
    } else {
      await replayStoredEvents(ctx, scratch, through);
    }
    const tables = await compareSchemas(ctx.db, 'public', schema);
    const after = await readState(ctx.db);
    const result: VerifyResult = {
      source: opts.source,
      throughLedger: through,
      equal: tables.every((t) => t.equal),
      tables,
    };
    if (after?.last_ledger !== through)
      result.note = `live ingest moved from ledger ${through} to ${after?.last_ledger} during verify: stop the daemon for an exact comparison`;
    if (live.rebuilt_ledger !== null && opts.source === 'rpc')
      result.note = `projections were rebuilt from ledger entries at ledger ${live.rebuilt_ledger}; history before it is not replayable`;
    return result;
  } finally {
    await scratch.db.destroy();
    await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(ctx.db);
  }
}

/** Re-projects the raw events stored in public.chain_events (re-decoded from their XDR). */
async function replayStoredEvents(ctx: Context, scratch: Context, through: number): Promise<void> {
  const kinds = new Map<string, ContractKind>();
  for (const [k, id] of Object.entries(ctx.config.contracts)) if (id) kinds.set(id, k as ContractKind);
  let after = '';
  for (;;) {
    const rows = await sql<{
      id: string;
      ledger: number;
      ledger_closed_at: Date;
      contract_id: string;
      tx_hash: string;
      topics_xdr: string[];
      value_xdr: string;
    }>`
      SELECT id, ledger, ledger_closed_at, contract_id, tx_hash, topics_xdr, value_xdr FROM public.chain_events
      WHERE id > ${after} AND ledger <= ${through} ORDER BY id LIMIT 5000`.execute(ctx.db);
    if (rows.rows.length === 0) return;
    const events: ChainEvent[] = rows.rows.map((r) => {
      const kind = kinds.get(r.contract_id) ?? 'analytics';
      return {
        id: r.id,
        ledger: r.ledger,
        ledgerClosedAt: r.ledger_closed_at.toISOString(),
        contractId: r.contract_id,
        kind,
        txHash: r.tx_hash,
        topicsXdr: r.topics_xdr,
        valueXdr: r.value_xdr,
        decoded: decodeEvent(kind, r.topics_xdr, r.value_xdr),
      };
    });
    await withPageTransaction(scratch.pool, (tx, copyIn) =>
      projectPage(tx, events, { network: ctx.config.STELLAR_NETWORK, sideEffects: false, copyIn }),
    );
    after = rows.rows.at(-1)!.id;
  }
}
