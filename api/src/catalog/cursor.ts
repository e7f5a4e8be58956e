// Opaque keyset cursors: a base64url JSON tuple whose parts are checked against the expected kinds,
// so a cursor this API did not issue is a 400, never a SQL error.
import { badRequest } from '../errors.ts';

type Kind = 'date' | 'uuid' | 'number';
type Value<K extends Kind> = K extends 'number' ? number : string;
type Decoded<T extends readonly Kind[]> = { [I in keyof T]: Value<T[I]> };

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
          : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
    if (!ok) throw fail();
  });
  return parts as Decoded<T>;
}
