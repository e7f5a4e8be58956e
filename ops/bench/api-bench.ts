// API throughput bench: autocannon at 50 connections against, in one run and one server process,
//   1. the ceiling: a route on the same app that returns a small JSON object and does nothing else
//      (for reference also a bare Fastify instance without the app's hooks, with a small body and
//      with the catalog page's bytes);
//   2. the public catalog (first page, and a full-text search) and a course page, anonymously;
//   3. the public credential endpoint a verifier calls.
// Each target must reach at least half the ceiling's requests per second with p99 under 20 ms.
// The bench starts its own Postgres and Redis (ops/dev/services.ts), seeds through the API, and
// runs the server in a child process so autocannon does not share its event loop.
//
//   node ops/bench/api-bench.ts [--duration 5] [--rounds 3] [--connections 50]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Keypair } from '@stellar/stellar-sdk';
import pg from 'pg';
import { runMigrations } from '@starling/migrations';
import { startPostgres, startRedis, withDatabase } from '../dev/services.ts';
import type { App } from '../../api/src/app.ts';

const CEILING_SHARE = 0.5;
const P99_LIMIT_MS = 20;

interface Ports {
  ceiling: number;
  api: number;
  credentialId: string;
}

async function serve(): Promise<void> {
  // The API's own copy of fastify, so the ceiling runs the same Fastify version.
  const fromApi = createRequire(new URL('../../api/package.json', import.meta.url));
  const { default: Fastify } = (await import(pathToFileURL(fromApi.resolve('fastify')).href)) as {
    default: (opts: { logger: false }) => App;
  };
  const { buildApp } = await import('../../api/src/app.ts');
  const { loadConfig } = await import('../../api/src/config.ts');
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', RATE_LIMIT_AUTH_MAX: '100000' } as Record<
    string,
    string
  >);
  const app = await buildApp({ config });
  // The ceiling: a pure-JSON route on the same app, behind the same hooks (as completion-bench.ts).
  app.get('/bench/ping', { schema: { hide: true } }, async () => ({
    ok: true,
    service: 'starling',
    version: 1,
  }));
  await app.ready();

  // Seed through the API: an instructor with 60 published courses, and one certificate.
  const reg = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: {
      email: 'bench@example.test',
      password: 'correct horse battery staple',
      display_name: 'Bench Instructor',
    },
  });
  const userId = reg.json().user_id as string;
  await app.ctx.db.updateTable('users').set({ role: 'instructor' }).where('id', '=', userId).execute();
  const login = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: 'bench@example.test', password: 'correct horse battery staple' },
  });
  const headers = { authorization: `Bearer ${login.json().access_token}` };
  const topics = [
    'Soroban contracts',
    'Stellar payments',
    'Rust ownership',
    'Anchors and SEP-24',
    'Wallet security',
    'Token design',
  ];
  let firstCourse = '';
  for (let i = 0; i < 60; i += 1) {
    const topic = topics[i % topics.length]!;
    const c = await app.inject({
      method: 'POST',
      url: '/v1/courses',
      headers,
      payload: {
        slug: `bench-${i}`,
        title: `${topic} ${i}`,
        summary: `Learn ${topic.toLowerCase()} step by step, with exercises and a final project.`,
        tags: ['stellar', `t${i % 5}`],
        level: (['beginner', 'intermediate', 'advanced'] as const)[i % 3],
      },
    });
    const courseId = c.json().id as string;
    firstCourse ||= courseId;
    const m = await app.inject({
      method: 'POST',
      url: `/v1/courses/${courseId}/modules`,
      headers,
      payload: { title: 'Basics' },
    });
    for (let j = 0; j < 3; j += 1) {
      await app.inject({
        method: 'POST',
        url: `/v1/modules/${m.json().id}/lessons`,
        headers,
        payload: { title: `Lesson ${j + 1}`, body_md: '# Hello', duration_seconds: 300 },
      });
    }
    const p = await app.inject({
      method: 'PATCH',
      url: `/v1/courses/${courseId}`,
      headers,
      payload: { status: 'published' },
    });
    if (p.statusCode !== 200) throw new Error(`seeding failed: ${p.body}`);
  }
  const user = await app.ctx.db
    .selectFrom('users')
    .select('stellar_address')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  const canonical = JSON.stringify({ course: firstCourse, learner: userId });
  const cert = await app.ctx.db
    .insertInto('certificates')
    .values({
      user_id: userId,
      course_id: firstCourse,
      student_address: user.stellar_address,
      document: canonical,
      document_canonical: canonical,
      document_hash: createHash('sha256').update(canonical).digest('hex'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  // The same bytes as the catalog's first page, from a bare route: what the payload alone costs here.
  const page = (await app.inject({ method: 'GET', url: '/v1/catalog' })).json() as unknown;
  const ceiling = Fastify({ logger: false });
  ceiling.get('/ping', async () => ({ ok: true, service: 'starling', version: 1 }));
  ceiling.get('/page', async () => page);
  await ceiling.listen({ host: '127.0.0.1', port: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (s: { server: { address(): unknown } }) => (s.server.address() as { port: number }).port;
  const ports: Ports = { ceiling: port(ceiling), api: port(app), credentialId: cert.id };
  process.stdout.write(`PORTS ${JSON.stringify(ports)}\n`);
  process.on('SIGTERM', () => {
    void Promise.all([ceiling.close(), app.close()]).then(() => process.exit(0));
  });
}

interface Figure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  bytes: number;
}

async function measure(url: string, duration: number, connections: number): Promise<Figure> {
  const r = await autocannon({ url, connections, duration });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytes: r.throughput.total / Math.max(1, r.requests.total),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'starling-bench-'));
  chmodSync(dir, 0o755);
  const postgres = await startPostgres({ dataDir: join(dir, 'pg'), ephemeral: true });
  const redis = await startRedis({ dir: join(dir, 'redis') });
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = withDatabase(postgres.url, 'bench');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await runMigrations(pool);
  await pool.end();

  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, new URL(import.meta.url).pathname, '--serve'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      WALLET_KEYS: `1:${randomBytes(32).toString('base64')}`,
      SEP10_SIGNING_SECRET: Keypair.random().secret(),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const names: string[] = [];
  const runs: Figure[][] = [];
  try {
    const ports = await new Promise<Ports>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /PORTS (\{.*\})\n/.exec(buf);
        if (m) resolve(JSON.parse(m[1]!) as Ports);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const api = `http://127.0.0.1:${ports.api}`;
    const targets: [string, string][] = [
      ['ceiling: pure-JSON route on the same app', `${api}/bench/ping`],
      ['(bare Fastify, no app hooks, small JSON)', `http://127.0.0.1:${ports.ceiling}/ping`],
      ['(bare Fastify, catalog-page bytes)', `http://127.0.0.1:${ports.ceiling}/page`],
      ['GET /v1/catalog', `${api}/v1/catalog`],
      ['GET /v1/catalog?q=soroban&level=beginner', `${api}/v1/catalog?q=soroban&level=beginner`],
      ['GET /v1/courses/:slug (course page)', `${api}/v1/courses/bench-7`],
      ['GET /v1/credentials/:id', `${api}/v1/credentials/${ports.credentialId}`],
    ];
    // BENCH_ONLY=<substring> keeps the ceiling and the matching targets (for profiling one route).
    const only = process.env.BENCH_ONLY;
    if (only) targets.splice(1, targets.length, ...targets.slice(1).filter(([n]) => n.includes(only)));
    names.push(...targets.map(([n]) => n));
    for (const [, url] of targets) await autocannon({ url, connections, duration: 2 }); // warm-up: JIT, pools, caches
    // Rounds interleave the targets so a noisy neighbour on the machine hits them all alike.
    for (let r = 0; r < rounds; r += 1) {
      const round: Figure[] = [];
      for (const [, url] of targets) round.push(await measure(url, duration, connections));
      runs.push(round);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await redis.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  let failed = false;
  console.log(
    `\nautocannon, ${connections} connections, ${rounds} rounds × ${duration} s per target (after a 2 s warm-up each), Node ${process.version}; medians over the rounds`,
  );
  console.log('(% ceiling is per round, against the same-app pure-JSON route measured in the same round)\n');
  console.log(
    'target                                      bytes     req/s   % ceiling   p50 ms   p99 ms   errors   non-2xx',
  );
  names.forEach((name, i) => {
    const col = runs.map((round) => round[i]!);
    const share = median(runs.map((round) => round[i]!.rps / round[0]!.rps));
    const f = {
      rps: median(col.map((c) => c.rps)),
      p50: median(col.map((c) => c.p50)),
      p99: median(col.map((c) => c.p99)),
      bytes: median(col.map((c) => c.bytes)),
    };
    const errors = col.reduce((s, c) => s + c.errors, 0);
    const non2xx = col.reduce((s, c) => s + c.non2xx, 0);
    const target = !name.startsWith('ceiling') && !name.startsWith('(');
    const ok = !target || (share >= CEILING_SHARE && f.p99 < P99_LIMIT_MS && errors === 0 && non2xx === 0);
    failed ||= !ok;
    console.log(
      `${name.padEnd(42)} ${f.bytes.toFixed(0).padStart(6)}  ${f.rps.toFixed(0).padStart(8)}   ${(share * 100).toFixed(0).padStart(8)}%   ${String(f.p50).padStart(6)}   ${String(f.p99).padStart(6)}   ${String(errors).padStart(6)}   ${String(non2xx).padStart(7)}${ok ? '' : '   FAIL'}`,
    );
  });
  console.log(
    failed
      ? `\nFAIL: every target needs ≥ ${CEILING_SHARE * 100}% of the ceiling, p99 < ${P99_LIMIT_MS} ms, no errors`
      : '\nPASS',
  );
  process.exitCode = failed ? 1 : 0;
}

if (process.argv.includes('--serve')) await serve();
else await main();
