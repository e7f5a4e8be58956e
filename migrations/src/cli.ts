// Usage: node migrations/src/cli.ts migrate            (DATABASE_URL)
//        node migrations/src/cli.ts types [--check]    regenerate (or verify) src/database.ts from a migrated scratch database
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readDatabaseUrl } from './config.ts';
import { runMigrations } from './runner.ts';

const TYPES_FILE = fileURLToPath(new URL('./database.ts', import.meta.url));

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const url = readDatabaseUrl();
  if (command === 'migrate') {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const result = await runMigrations(pool);
      console.log(result.applied.length ? `applied: ${result.applied.join(', ')}` : 'schema is up to date');
    } finally {
      await pool.end();
    }
    return;
  }
  if (command === 'types') {
    const check = args.includes('--check');
    const before = await readFile(TYPES_FILE, 'utf8').catch(() => '');
    const out = check ? `${TYPES_FILE}.check` : TYPES_FILE;
    execFileSync(
      'pnpm',
      [
        'exec',
        'kysely-codegen',
        '--dialect',
        'postgres',
        '--url',
        url,
        '--out-file',
        out,
        '--exclude-pattern',
        'schema_migrations',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
    if (check) {
      const generated = await readFile(out, 'utf8');
      execFileSync('rm', ['-f', out]);
      if (generated !== before) {
        console.error('migrations/src/database.ts is stale: run `pnpm db:types` against a migrated database');
        process.exit(1);
      }
      console.log('database types match the migrated schema');
    }
    return;
  }
  throw new Error(`unknown command ${command ?? ''}; use migrate or types [--check]`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
