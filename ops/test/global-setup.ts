// Vitest global setup: one real Postgres cluster and one real Redis for the whole run, on private
// ports, torn down afterwards. A migrated template database lets every test file clone its own
// database in milliseconds (see ops/test/db.ts).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '@starling/migrations';
import { startPostgres, startRedis, withDatabase } from '../dev/services.ts';

export const TEMPLATE_DB = 'starling_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDb: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'starling-test-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory inside
  const postgres = await startPostgres({ dataDir: join(dir, 'pg'), ephemeral: true });
  const redis = await startRedis({ dir: join(dir, 'redis') });
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: withDatabase(postgres.url, TEMPLATE_DB), max: 1 });
  await runMigrations(pool);
  await pool.end();
  project.provide('pgAdminUrl', postgres.url);
  project.provide('templateDb', TEMPLATE_DB);
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
