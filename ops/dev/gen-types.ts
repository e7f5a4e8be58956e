// Regenerates migrations/src/database.ts from a freshly migrated scratch database.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runMigrations } from '../../migrations/src/runner.ts';
import { startPostgres, withDatabase } from './services.ts';

const dir = mkdtempSync(join(tmpdir(), 'starling-types-'));
chmodSync(dir, 0o755);
const postgres = await startPostgres({ dataDir: dir, ephemeral: true });
try {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE types_scratch');
  await admin.end();
  const url = withDatabase(postgres.url, 'types_scratch');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await runMigrations(pool);
  await pool.end();
  execFileSync('node', ['src/cli.ts', 'types'], {
    cwd: new URL('../../migrations', import.meta.url).pathname,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'inherit',
  });
  console.log('wrote migrations/src/database.ts');
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
