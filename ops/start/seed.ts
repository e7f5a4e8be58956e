// Demo data for a fresh system: an admin, an operator, an instructor and a learner (credentials
// printed by the start command) and one published course. Idempotent: safe on every start.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface DemoAccount {
  role: 'admin' | 'operator' | 'instructor' | 'learner';
  email: string;
  password: string;
}

export const DEMO_PASSWORD = 'starling-demo-2026';
export const DEMO_ACCOUNTS: DemoAccount[] = [
  { role: 'admin', email: 'admin@starling.local', password: DEMO_PASSWORD },
  { role: 'operator', email: 'operator@starling.local', password: DEMO_PASSWORD },
  { role: 'instructor', email: 'instructor@starling.local', password: DEMO_PASSWORD },
  { role: 'learner', email: 'learner@starling.local', password: DEMO_PASSWORD },
];

const DEMO_COURSE_SLUG = 'stellar-foundations';

async function api(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(path, base), {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}

/** Accounts go through the real registration endpoint (argon2id, custodial wallet, audit). */
export async function seedDemo(apiUrl: string, databaseUrl: string): Promise<{ courseSlug: string }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    for (const account of DEMO_ACCOUNTS) {
      const exists = await pool.query('SELECT id FROM users WHERE email = $1', [account.email]);
      if (exists.rowCount === 0) {
        const res = await api(apiUrl, '/v1/auth/register', {
          method: 'POST',
          body: JSON.stringify({
            email: account.email,
            password: account.password,
            display_name: `Demo ${account.role[0]!.toUpperCase()}${account.role.slice(1)}`,
          }),
        });
        if (res.status !== 201)
          throw new Error(`seeding ${account.email} failed: ${res.status} ${await res.text()}`);
      }
      if (account.role !== 'learner') {
        await pool.query('UPDATE users SET role = $2, updated_at = now() WHERE email = $1 AND role <> $2', [
          account.email,
          account.role,
        ]);
      }
    }
    const course = await pool.query('SELECT id FROM courses WHERE slug = $1', [DEMO_COURSE_SLUG]);
    if (course.rowCount === 0) await insertDemoCourse(pool);
    return { courseSlug: DEMO_COURSE_SLUG };
  } finally {
    await pool.end();
  }
}

async function insertDemoCourse(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const instructor = await client.query<{ id: string }>(
      "SELECT id FROM users WHERE email = 'instructor@starling.local'",
    );
    const courseId = randomUUID();
    await client.query(
      `INSERT INTO courses (id, instructor_id, slug, title, summary, description, level, tags, status, published_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'beginner', $7, 'published', now())`,
      [
        courseId,
        instructor.rows[0]!.id,
        DEMO_COURSE_SLUG,
        'Stellar Foundations',
        'Accounts, assets and smart contracts on Stellar, from first principles.',
        'A short course on how the Stellar network works and how Soroban contracts record facts that anyone can verify.',
        ['stellar', 'blockchain', 'soroban'],
      ],
    );
    const modules: [string, [string, string, number][]][] = [
      [
        'The network',
        [
          [
            'Ledgers and consensus',
            '# Ledgers\n\nStellar closes a **ledger** about every five seconds. A closed ledger is final.',
            300,
          ],
          [
            'Accounts and keys',
            '# Accounts\n\nAn account is identified by its public key, a `G…` address.',
            420,
          ],
        ],
      ],
      [
        'Smart contracts',
        [
          ['What Soroban is', '# Soroban\n\nSoroban runs WebAssembly contracts with metered resources.', 480],
          [
            'Events you can verify',
            '# Events\n\nContracts emit events; anyone can read them back through Stellar RPC.',
            360,
          ],
        ],
      ],
    ];
    for (const [mIndex, [title, lessons]] of modules.entries()) {
      const moduleId = randomUUID();
      await client.query(
        'INSERT INTO course_modules (id, course_id, title, position) VALUES ($1, $2, $3, $4)',
        [moduleId, courseId, title, mIndex],
      );
      for (const [lIndex, [lTitle, body, seconds]] of lessons.entries()) {
        await client.query(
          'INSERT INTO lessons (module_id, course_id, title, body_md, duration_seconds, position) VALUES ($1, $2, $3, $4, $5, $6)',
          [moduleId, courseId, lTitle, body, seconds, lIndex],
        );
      }
    }
    await client.query(
      "INSERT INTO audit_log (actor_type, action, target_type, target_id, data) VALUES ('system', 'course.seeded', 'course', $1, '{}')",
      [courseId],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
