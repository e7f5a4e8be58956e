import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase } from '../../ops/test/db.ts';
import { createPool } from './index.ts';

describe('createPool', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('survives a connection cut while a client is checked out, and serves the next query', async () => {
    const errors: string[] = [];
    const pool = createPool(database.url, 2, (_e, where) => errors.push(where));
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const client = await pool.connect();
    try {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // Between two statements, as when the server restarts mid-transaction. Without a listener
      // on the checked-out client, its 'error' is an uncaught exception and this run fails.
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors.length).toBeGreaterThan(0);
      expect(new Set(errors)).toEqual(new Set(['in_use']));
      await expect(client.query('SELECT 1')).rejects.toThrow();
    } finally {
      client.release(true);
      await admin.end();
    }
    try {
      expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
