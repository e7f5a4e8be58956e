import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './database.ts';

export type Database = DB;
export * from './database.ts';
export { runMigrations, loadMigrations, MigrationError, MIGRATIONS_DIR } from './runner.ts';
export type { Migration, MigrationResult } from './runner.ts';

// int8 and numeric come back as strings by default; token amounts need exactness, so keep them strings
// but parse counts (int8 from COUNT) where callers ask for numbers explicitly.
export function createPool(connectionString: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString, max });
}

export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
