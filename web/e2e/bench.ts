// The verification page in Chromium: largest contentful paint (PerformanceObserver, cold cache each
// run) and the JavaScript it loads, raw and gzip -9. Used by ops/bench/web-bench.ts.
import { gzipSync } from 'node:zlib';
import { launch } from './browser.ts';
import { seed } from './fixtures.ts';
import { startStack } from './stack.ts';

export interface WebBenchResult {
  runs: number;
  verdict: string;
  lcpMs: number[];
  lcpMedianMs: number;
  lcpP90Ms: number;
  scripts: { url: string; raw: number; gzip: number }[];
  jsRawBytes: number;
  jsGzipBytes: number;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]!;

/** A certificate to look at: a learner completes the demo course through the API. */
async function issueCertificate(apiUrl: string, slug: string): Promise<string> {
  const j = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const res = await fetch(`${apiUrl}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : ((await res.json()) as Record<string, unknown>);
  };
  const s = (await j('/v1/auth/register', {
    method: 'POST',
    body: JSON.stringify({
      email: `bench.${Date.now()}@example.test`,
      password: 'a long enough password',
      display_name: 'Bench Learner',
    }),
  }))!;
  const token = String(s.access_token);
  const course = (await j(`/v1/courses/${slug}`, { token }))! as {
    id: string;
    syllabus: { lessons: { id: string }[] }[];
  };
  await j(`/v1/courses/${course.id}/enrolment`, { method: 'POST', token, body: '{}' });
  let last: Record<string, unknown> | null = null;
  for (const l of course.syllabus.flatMap((m) => m.lessons))
    last = await j(`/v1/lessons/${l.id}/complete`, { method: 'POST', token, body: '{}' });
  const cert = (last as { certificate?: { id: string } } | null)?.certificate?.id;
  if (!cert) throw new Error('no certificate after completing the course');
  return cert;
}

export async function runWebBench(runs = 15): Promise<WebBenchResult> {
  const stack = await startStack();
  const browser = await launch();
  try {
    const { courseSlug } = await seed(stack);
    const id = await issueCertificate(stack.apiUrl, courseSlug);
    // With the chain running, wait for the certificate to be confirmed so the page does its full
    // check (hash, RPC read, comparison, revocation) on every load.
    const deadline = Date.now() + 90_000;
    while (stack.rpcUrl && Date.now() < deadline) {
      const c = (await (await fetch(`${stack.apiUrl}/v1/credentials/${id}`)).json()) as { status: string };
      if (c.status === 'confirmed') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const url = `${stack.webUrl}/verify/${id}`;
    const lcpMs: number[] = [];
    const scriptUrls = new Set<string>();
    let verdict = '';
    for (let i = 0; i < runs + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      page.on('response', (r) => {
        if (r.request().resourceType() === 'script') scriptUrls.add(r.url());
      });
      await page.goto(url, { waitUntil: 'load' });
      const lcp = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            new PerformanceObserver((list) => {
              const entries = list.getEntries();
              resolve(entries[entries.length - 1]!.startTime);
            }).observe({ type: 'largest-contentful-paint', buffered: true } as unknown as { type: 'mark' });
          }),
      );
      await page.getByTestId('verdict').waitFor({ timeout: 10_000 });
      verdict = (await page.getByTestId('verdict').textContent()) ?? '';
      if (i > 0) lcpMs.push(Math.round(lcp)); // the first run warms the servers, not the browser
      await context.close();
    }
    const scripts = [];
    for (const u of scriptUrls) {
      const body = Buffer.from(await (await fetch(u)).arrayBuffer());
      scripts.push({ url: new URL(u).pathname, raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
    }
    return {
      runs,
      verdict,
      lcpMs,
      lcpMedianMs: pct(lcpMs, 0.5),
      lcpP90Ms: pct(lcpMs, 0.9),
      scripts,
      jsRawBytes: scripts.reduce((a, s) => a + s.raw, 0),
      jsGzipBytes: scripts.reduce((a, s) => a + s.gzip, 0),
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}
