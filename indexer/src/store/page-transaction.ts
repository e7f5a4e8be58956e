// A page's transaction on one pooled connection that the caller can also stream COPY into (Kysely
// hides its pg client, so the transaction runs on a Kysely bound to a client we hold), and
// writeRows, which bulk-writes rows with COPY when it can and with one unnest insert otherwise.
import { Kysely, PostgresDialect, sql, type PostgresPoolClient, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '@starling/migrations';
import { copyString, isEncoded, rowCount, type RowSet } from './copy-text.ts';

export { isEncoded, rowCount, type Row, type RowSet } from './copy-text.ts';

/** Runs `COPY … FROM STDIN` (text format) on the transaction's connection with this data. */
export type CopyIn = (copySql: string, data: string | Uint8Array) => Promise<void>;

export async function withPageTransaction<T>(
  pool: pg.Pool,
  fn: (tx: Transaction<Database>, copyIn: CopyIn) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const lease: PostgresPoolClient = {
    query: ((text: string, values: unknown[]) =>
      client.query(text, values)) as unknown as PostgresPoolClient['query'],
    release: () => undefined,
  };
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: { connect: async () => lease, end: async () => undefined, options: {} },
    }),
  });
  const copyIn: CopyIn = (copySql, data) =>
    new Promise((resolve, reject) => {
      // 'finish' comes after the server's ReadyForQuery: the rows are in by then.
      const stream = client.query(copyFrom(copySql));
      stream.once('error', reject);
      stream.once('finish', resolve);
      stream.end(data);
    });
  try {
    const out = await db.transaction().execute((tx) => fn(tx, copyIn));
    client.release();
    return out;
  } catch (e) {
    // Rolled back, or the connection broke (possibly mid-COPY): either way, do not reuse it.
    client.release(true);
    throw e;
  }
}

/** A column to write: its name and the SQL type its text form is cast to. */
export type Column = readonly [name: string, type: string];
/**
 * Appends rows to a table: one COPY when `copyIn` is given, else one INSERT from unnest'ed text
 * arrays (each value cast to its column's type). No conflict handling: the caller knows the rows
 * are new, or writes into a staging table and merges from there.
 */
export async function writeRows(
  tx: Transaction<Database>,
  copyIn: CopyIn | undefined,
  table: string,
  columns: readonly Column[],
  rows: RowSet,
): Promise<void> {
  if (rowCount(rows) === 0) return;
  const names = columns.map(([n]) => n).join(', ');
  if (copyIn) {
    const data = isEncoded(rows) ? rows.copy : copyString(rows);
    await copyIn(`COPY ${table} (${names}) FROM STDIN`, data);
    return;
  }
  if (isEncoded(rows)) throw new Error(`${table}: rows encoded as COPY text need a COPY connection`);
  const arrays = columns.map((_, i) => rows.map((r) => r[i] ?? null));
  await sql`
    INSERT INTO ${sql.raw(table)} (${sql.raw(names)})
    SELECT ${sql.join(columns.map(([n, t]) => sql.raw(`${n}::${t}`)))}
    FROM unnest(${sql.join(arrays.map((a) => sql`${a}::text[]`))}) AS t(${sql.raw(names)})`.execute(tx);
}
