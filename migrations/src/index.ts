import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './database.ts';

export type Database = DB;
export * from './database.ts';
export { runMigrations, loadMigrations, MigrationError, MIGRATIONS_DIR } from './runner.ts';
export type { Migration, MigrationResult } from './runner.ts';

// int8 and numeric come back as strings by default; token amounts need exactness, so keep them strings
// but parse counts (int8 from COUNT) where callers ask for numbers explicitly.
/**
 * A pool whose clients never crash the process when their connection dies (a server restart,
 * pg_terminate_backend). pg-pool listens for errors only on idle clients; a checked-out client
 * whose connection is cut between two statements emits an 'error' nobody hears, which Node turns
 * into an uncaught exception. Every client here keeps a listener: the statement that needed it
 * fails, and the broken client is discarded when released.
 */
export function createPool(
  connectionString: string,
  max = 10,
  onError: (err: Error, where: 'idle' | 'in_use') => void = () => undefined,
): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', (err) => onError(err, 'idle'));
  pool.on('connect', (client) => client.on('error', (err) => onError(err, 'in_use')));
  return pool;
}

export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
