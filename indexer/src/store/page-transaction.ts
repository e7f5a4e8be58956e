// A page's transaction on one pooled connection that the caller can also stream COPY into (Kysely
// hides its pg client, so the transaction runs on a Kysely bound to a client we hold), and
// writeRows, which bulk-writes rows with COPY when it can and with one unnest insert otherwise.
import { Kysely, PostgresDialect, sql, type PostgresPoolClient, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '@starling/migrations';

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
/** A row as the text forms of its values (null for NULL), in column order. */
export type Row = readonly (string | null)[];

/** Rows already encoded as COPY text (UTF-8): built off the main thread, written as they are. */
export interface EncodedRows {
  copy: Uint8Array;
  count: number;
}
/** Rows to write: as values, or already encoded. */
export type RowSet = readonly Row[] | EncodedRows;

export function isEncoded(rows: RowSet): rows is EncodedRows {
  return !Array.isArray(rows);
}

export function rowCount(rows: RowSet): number {
  return isEncoded(rows) ? rows.count : rows.length;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyLine(row: Row): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    const text =
      v === null || v === undefined
        ? '\\N'
        : COPY_SPECIAL.test(v)
          ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!)
          : v;
    line += i === 0 ? text : `\t${text}`;
  }
  return `${line}\n`;
}

const utf8 = new TextEncoder();

/** Appends rows as COPY text into one growing UTF-8 buffer, without keeping the rows. */
export class CopyWriter {
  #buf: Uint8Array;
  #pos = 0;
  #count = 0;

  constructor(initialBytes = 1 << 20) {
    this.#buf = new Uint8Array(initialBytes);
  }

  row(row: Row): void {
    const line = copyLine(row);
    for (;;) {
      const r = utf8.encodeInto(line, this.#buf.subarray(this.#pos));
      if (r.read === line.length) {
        this.#pos += r.written;
        break;
      }
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + line.length * 3));
      bigger.set(this.#buf.subarray(0, this.#pos));
      this.#buf = bigger;
    }
    this.#count++;
  }

  /** The text so far (a view on this writer's own buffer: transferable between threads). */
  finish(): EncodedRows {
    return { copy: this.#buf.subarray(0, this.#pos), count: this.#count };
  }
}

/** The rows as COPY text, UTF-8 (a fresh buffer: it can be transferred between threads). */
export function copyText(rows: RowSet): EncodedRows {
  if (isEncoded(rows)) return rows;
  return { copy: utf8.encode(copyString(rows)), count: rows.length };
}

function copyString(rows: readonly Row[]): string {
  let data = '';
  for (const row of rows) data += copyLine(row);
  return data;
}

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
