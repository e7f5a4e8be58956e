import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../ops/test/db.ts';
import { MIGRATIONS_DIR, loadMigrations, runMigrations } from './runner.ts';

async function emptyDatabase(): Promise<{ pool: pg.Pool; drop(): Promise<void> }> {
  // The template is already migrated; start from a clean schema to exercise the runner itself.
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  return {
    pool,
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}

function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'));
  for (const f of readdirSync(MIGRATIONS_DIR)) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
  return dir;
}

describe('migration runner', () => {
  let ctx: Awaited<ReturnType<typeof emptyDatabase>>;
  beforeAll(async () => {
    ctx = await emptyDatabase();
  });
  afterAll(async () => ctx.drop());

  it('applies every migration once and records its checksum', async () => {
    const first = await runMigrations(ctx.pool);
    expect(first.applied.length).toBe(readdirSync(MIGRATIONS_DIR).length);
    const second = await runMigrations(ctx.pool);
    expect(second.applied).toEqual([]);
    const { rows } = await ctx.pool.query('SELECT name, checksum FROM schema_migrations ORDER BY version');
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const dir = copyOfMigrations();
    const first = readdirSync(dir).sort()[0]!;
    writeFileSync(join(dir, first), readFileSync(join(dir, first), 'utf8') + '\n-- edited\n');
    await expect(runMigrations(ctx.pool, dir)).rejects.toMatchObject({ code: 'edited' });
    rmSync(dir, { recursive: true });
  });

  it('keeps every landed migration byte for byte (migrations/landed.json)', async () => {
    // A database migrated by an earlier release refuses an edited migration at start-up; tests
    // migrate from empty and would not notice, so the landed checksums are pinned here.
    const landed = JSON.parse(readFileSync(join(MIGRATIONS_DIR, '../landed.json'), 'utf8')) as {
      migrations: Record<string, string>;
    };
    const files = new Map((await loadMigrations()).map((m) => [m.name, m.checksum]));
    expect(Object.keys(landed.migrations).length).toBeGreaterThan(0);
    for (const [file, checksum] of Object.entries(landed.migrations)) {
      expect({ file, checksum: files.get(file) }).toEqual({ file, checksum });
    }
  });

  it('rolls back a failing migration whole and records nothing for it', async () => {
    const dir = copyOfMigrations();
    writeFileSync(join(dir, '9999_broken.sql'), 'CREATE TABLE half_done (id int); SELECT 1/0;');
    await expect(runMigrations(ctx.pool, dir)).rejects.toMatchObject({ code: 'failed' });
    const t = await ctx.pool.query("SELECT to_regclass('half_done') AS t");
    expect(t.rows[0].t).toBeNull();
    const m = await ctx.pool.query('SELECT 1 FROM schema_migrations WHERE version = 9999');
    expect(m.rowCount).toBe(0);
    rmSync(dir, { recursive: true });
  });
});

describe('schema rules', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('keeps the audit log append-only', async () => {
    await pool.query(
      "INSERT INTO audit_log (actor_type, action, target_type) VALUES ('system', 'test', 'x')",
    );
    await expect(pool.query('UPDATE audit_log SET action = $1', ['forged'])).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(pool.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
  });

  it('matches the checked-in Kysely types (regenerate with pnpm db:types)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'types-')), 'database.ts');
    execFileSync(
      'pnpm',
      [
        'exec',
        'kysely-codegen',
        '--dialect',
        'postgres',
        '--url',
        db.url,
        '--out-file',
        out,
        '--exclude-pattern',
        'schema_migrations',
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const checkedIn = readFileSync(fileURLToPath(new URL('./database.ts', import.meta.url)), 'utf8');
    expect(readFileSync(out, 'utf8')).toBe(checkedIn);
  });
});
