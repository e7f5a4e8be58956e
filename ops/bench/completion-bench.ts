// Lesson-completion throughput (issue 5): every request is a new completion by a real learner, so
// each one runs the whole transaction (enrolment lock, access rules, completion, percent, progress
// intent, milestones; at 100 %: certificate, issue intent, referral reward). Also the public
// credential endpoint against a pure-JSON route on the same app (the ceiling), in the same run.
//
//   node ops/bench/completion-bench.ts [--duration 20] [--connections 50] [--learners 1000] [--lessons 40] [--procs 1]
//
// Starts its own durable Postgres (fsync on) and Redis in a temporary directory; the API runs in a
// child process so autocannon does not share its event loop. Exits non-zero when completions fall
// below 1,000/s or any request fails.
import { fork, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { Keypair } from '@stellar/stellar-sdk';
import { runMigrations } from '@starling/migrations';
import { freePort, startPostgres, startRedis, withDatabase } from '../dev/services.ts';
import { loadConfig } from '../../api/src/config.ts';
import { createTokenService } from '../../api/src/auth/tokens.ts';

const TARGET_PER_SECOND = 1000;

function env(databaseUrl: string, redisUrl: string, jwtSecret: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: jwtSecret,
    WALLET_KEYS: `1:${randomBytes(32).toString('base64')}`,
    SEP10_SIGNING_SECRET: Keypair.random().secret(),
    STELLAR_NETWORK: 'local',
  };
}

/**
 * Child process: the API as it runs in production, plus the ceiling route. With --procs N > 1 it
 * runs N instances behind one port (node:cluster), as replicas behind a load balancer would.
 */
async function serve(procs: number, port: number): Promise<void> {
  if (procs > 1 && cluster.isPrimary) {
    const workers = Array.from({ length: procs }, () =>
      cluster.fork({ ...process.env, BENCH_PORT: String(port) }),
    );
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', resolve))));
    process.send?.({ address: `http://127.0.0.1:${port}` });
    process.on('SIGTERM', () => {
      for (const w of workers) w.kill('SIGTERM');
      void Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r)))).then(() => process.exit(0));
    });
    return;
  }
  const { buildApp } = await import('../../api/src/app.ts');
  const config = loadConfig(process.env);
  const app = await buildApp({ config });
  app.get('/bench/ceiling', { schema: { hide: true } }, async () => ({ ok: true }));
  const address = await app.listen({ port: Number(process.env.BENCH_PORT ?? port), host: '127.0.0.1' });
  process.send?.({ address });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

async function seed(pool: pg.Pool, learners: number, lessons: number) {
  const instructor = await insertUsers(pool, 1, null);
  const courseId = randomUUID();
  await pool.query(
    `INSERT INTO courses (id, instructor_id, slug, title, summary, status, published_at) VALUES ($1, $2, 'bench-course', 'Bench course', 'x', 'published', now())`,
    [courseId, instructor[0]],
  );
  const moduleId = randomUUID();
  await pool.query(`INSERT INTO course_modules (id, course_id, title, position) VALUES ($1, $2, 'M', 0)`, [
    moduleId,
    courseId,
  ]);
  const lessonIds = Array.from({ length: lessons }, () => randomUUID());
  await pool.query(
    `INSERT INTO lessons (id, module_id, course_id, title, position) SELECT id, $1, $2, 'Lesson', ord - 1 FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, ord)`,
    [moduleId, courseId, lessonIds],
  );
  // Half the learners were referred by the instructor: their completions also mint rewards.
  const referred = await insertUsers(pool, Math.floor(learners / 2), instructor[0]!);
  const plain = await insertUsers(pool, learners - referred.length, null);
  const userIds = [...referred, ...plain];
  await pool.query(`INSERT INTO enrolments (user_id, course_id) SELECT unnest($1::uuid[]), $2`, [
    userIds,
    courseId,
  ]);
  // A one-lesson course the first learner completes through the API: a real certificate to verify.
  const shortCourse = randomUUID();
  const shortModule = randomUUID();
  const shortLesson = randomUUID();
  await pool.query(
    `INSERT INTO courses (id, instructor_id, slug, title, summary, status, published_at) VALUES ($1, $2, 'bench-short', 'Short course', 'x', 'published', now())`,
    [shortCourse, instructor[0]],
  );
  await pool.query(`INSERT INTO course_modules (id, course_id, title, position) VALUES ($1, $2, 'M', 0)`, [
    shortModule,
    shortCourse,
  ]);
  await pool.query(
    `INSERT INTO lessons (id, module_id, course_id, title, position) VALUES ($1, $2, $3, 'Only lesson', 0)`,
    [shortLesson, shortModule, shortCourse],
  );
  await pool.query(`INSERT INTO enrolments (user_id, course_id) VALUES ($1, $2)`, [userIds[0], shortCourse]);
  return { courseId, lessonIds, userIds, shortLesson };
}

async function insertUsers(pool: pg.Pool, n: number, referredBy: string | null): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  const addresses = ids.map(() => Keypair.random().publicKey());
  const codes = ids.map(() => randomBytes(6).toString('hex'));
  await pool.query(
    `INSERT INTO users (id, display_name, stellar_address, wallet_kind, referral_code, referred_by)
     SELECT id, 'Bench Learner', addr, 'external', code, $4 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, addr, code)`,
    [ids, addresses, codes, referredBy],
  );
  return ids;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function backendCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const r = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return new Map(r.rows.map((row) => [row.pid, cpuSeconds(row.pid)]));
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function summary(name: string, r: autocannon.Result) {
  return {
    name,
    requests_per_second: Math.round(r.requests.average),
    total: r.requests.total,
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latency_ms: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '20' },
      connections: { type: 'string', default: '50' },
      learners: { type: 'string', default: '1000' },
      lessons: { type: 'string', default: '40' },
      procs: { type: 'string', default: '1' },
    },
  });
  const procs = Number(values.procs);
  const duration = Number(values.duration);
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const connections = Number(values.connections);
  const dir = mkdtempSync(join(tmpdir(), 'starling-bench-'));
  chmodSync(dir, 0o755);
  const postgres = await startPostgres({
    dataDir: join(dir, 'pg'),
    ephemeral: process.env.BENCH_EPHEMERAL === '1',
  });
  const redis = await startRedis({ dir: join(dir, 'redis') });
  let child: ChildProcess | null = null;
  let failed = false;
  try {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const url = withDatabase(postgres.url, 'bench');
    if (process.env.BENCH_PRINT_DB) console.error(`database: ${url}`);
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    await runMigrations(pool);
    const { lessonIds, userIds, shortLesson } = await seed(
      pool,
      Number(values.learners),
      Number(values.lessons),
    );

    const serverEnv = env(url, redis.url, randomBytes(32).toString('hex'));
    const tokens = createTokenService(loadConfig(serverEnv));
    const access = await Promise.all(
      userIds.map(async (id) => (await tokens.sign('access', id, 'learner', 3600)).token),
    );
    const execArgv = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const port = procs > 1 ? await freePort() : 0;
    child = fork(new URL(import.meta.url).pathname, ['--serve', String(procs), String(port)], {
      env: { ...process.env, ...serverEnv },
      stdio: 'inherit',
      execArgv,
    });
    const base = await new Promise<string>((resolve, reject) => {
      child!.once('message', (m) => resolve((m as { address: string }).address));
      child!.once('exit', (code) => reject(new Error(`API exited with ${code}`)));
    });

    const done = await fetch(`${base}/v1/lessons/${shortLesson}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access[0]}` },
    });
    const certificateId = ((await done.json()) as { certificate: { id: string } | null }).certificate?.id;
    if (!certificateId) throw new Error('the seed completion issued no certificate');

    // Lesson-major order: consecutive requests are different learners, as real traffic would be.
    let next = 0;
    const pairs = lessonIds.length * userIds.length;
    const apiCpuBefore = cpuSeconds(child.pid!);
    const pgCpuBefore = await backendCpu(pool);
    const completions = await run({
      url: base,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const k = next % pairs;
            next += 1;
            const user = k % userIds.length;
            const lesson = Math.floor(k / userIds.length);
            return {
              ...req,
              path: `/v1/lessons/${lessonIds[lesson]}/complete`,
              headers: { authorization: `Bearer ${access[user]}` },
            };
          },
        },
      ],
    });
    const apiCpu = cpuSeconds(child.pid!) - apiCpuBefore;
    const pgCpuAfter = await backendCpu(pool);
    const pgCpu = [...pgCpuAfter].reduce((sum, [pid, cpu]) => sum + cpu - (pgCpuBefore.get(pid) ?? 0), 0);
    const counts = await pool.query<{
      completions: string;
      intents: string;
      certificates: string;
      rewards: string;
      notifications: string;
    }>(
      `SELECT (SELECT count(*) FROM lesson_completions) AS completions, (SELECT count(*) FROM intents) AS intents,
              (SELECT count(*) FROM certificates) AS certificates,
              (SELECT count(*) FROM intents WHERE kind = 'mint_reward') AS rewards,
              (SELECT count(*) FROM notifications) AS notifications`,
    );
    const c = counts.rows[0]!;
    const newPerSecond = Math.round(Number(c.completions) / duration);

    // The public credential endpoint against the ceiling, on the same app and connections,
    // alternated in short rounds so both see the same background load; medians are reported.
    const ceilings: autocannon.Result[] = [];
    const credentials: autocannon.Result[] = [];
    for (let round = 0; round < 3; round += 1) {
      ceilings.push(await run({ url: `${base}/bench/ceiling`, connections, duration: 5 }));
      credentials.push(
        await run({ url: `${base}/v1/credentials/${certificateId}`, connections, duration: 5 }),
      );
    }
    const median = (rs: autocannon.Result[]) =>
      [...rs].sort((a, b) => a.requests.average - b.requests.average)[1]!;
    const ceiling = median(ceilings);
    const credential = median(credentials);
    await pool.end();

    const report = {
      machine: { cpus: os.cpus().length, node: process.version, load_average_at_start: loadAtStart },
      settings: {
        duration_s: duration,
        connections,
        api_processes: procs,
        learners: userIds.length,
        lessons: lessonIds.length,
        postgres: 'durable (fsync on)',
      },
      completion: {
        ...summary('POST /v1/lessons/:id/complete', completions),
        new_completions_per_second: newPerSecond,
        // Load-independent cost: CPU per completion in the API process and in Postgres backends,
        // and what that allows on this machine's cores if nothing else ran (procs = 1 only).
        cpu_ms_per_completion:
          procs === 1
            ? {
                api: round2((apiCpu * 1000) / Number(c.completions)),
                postgres: round2((pgCpu * 1000) / Number(c.completions)),
              }
            : null,
        cpu_bound_capacity_per_second:
          procs === 1 ? Math.round((os.cpus().length * Number(c.completions)) / (apiCpu + pgCpu)) : null,
      },
      rows_written: c,
      ceiling: summary('GET /bench/ceiling (pure JSON)', ceiling),
      credential: {
        ...summary('GET /v1/credentials/:id', credential),
        ratio_to_ceiling: Number((credential.requests.average / ceiling.requests.average).toFixed(2)),
      },
    };
    console.log(JSON.stringify(report, null, 2));
    const completionErrors = completions.non2xx + completions.errors + completions.timeouts;
    if (newPerSecond < TARGET_PER_SECOND || completionErrors > 0) {
      console.error(
        `FAIL: ${newPerSecond} new completions/s (target ${TARGET_PER_SECOND}), ${completionErrors} failed requests`,
      );
      failed = true;
    }
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await redis.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0 || !cluster.isPrimary)
  await serve(Number(process.argv[serveAt + 1] ?? 1), Number(process.argv[serveAt + 2] ?? 0));
else await main();
