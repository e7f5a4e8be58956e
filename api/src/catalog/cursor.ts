// Opaque keyset cursors: a base64url JSON tuple whose parts are checked against the expected kinds,
// so a cursor this API did not issue is a 400, never a SQL error.
import { sql, type RawBuilder } from 'kysely';
import { badRequest } from '../errors.ts';

type Kind = 'date' | 'uuid' | 'number';
type Value<K extends Kind> = K extends 'number' ? number : string;
type Decoded<T extends readonly Kind[]> = { [I in keyof T]: Value<T[I]> };

const EXACT_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * A timestamp column as UTC text with all six fractional digits. Cursors carry this instead of a JS
 * Date, which keeps only milliseconds and would repeat or skip rows that share one.
 */
export function exactTs(column: string): RawBuilder<string> {
  return sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** A cursor timestamp (from exactTs) as a SQL value. */
export const tsValue = (at: string): RawBuilder<Date> => sql<Date>`${at}::timestamptz`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor<const T extends readonly Kind[]>(cursor: string, kinds: T): Decoded<T> {
  const fail = () => badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(parts) || parts.length !== kinds.length) throw fail();
  kinds.forEach((kind, i) => {
    const v: unknown = parts[i];
    const ok =
      kind === 'number'
        ? typeof v === 'number' && Number.isFinite(v)
        : kind === 'uuid'
          ? typeof v === 'string' && UUID.test(v)
          : typeof v === 'string' && EXACT_TS.test(v);
    if (!ok) throw fail();
  });
  return parts as Decoded<T>;
}
