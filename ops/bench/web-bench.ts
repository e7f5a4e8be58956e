// The verification page's largest contentful paint in Chromium and its JavaScript, compressed.
// Targets: LCP under 1 s, JS under 60 KB gzip. Needs the built site: pnpm --filter @starling/web build
// Run: node ops/bench/web-bench.ts [runs]
import { runWebBench } from '../../web/e2e/bench.ts';

const LCP_TARGET_MS = 1000;
const JS_TARGET_BYTES = 60 * 1024;

const r = await runWebBench(Number(process.argv[2] ?? 15));
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log(`/verify/[id], ${r.runs} cold loads in Chromium (headless, localhost)`);
console.log(`  in-browser check: ${r.verdict}`);
console.log(`  LCP median ${r.lcpMedianMs} ms, p90 ${r.lcpP90Ms} ms (target < ${LCP_TARGET_MS} ms)`);
console.log(
  `  JS ${r.scripts.length} files: ${kb(r.jsRawBytes)} raw, ${kb(r.jsGzipBytes)} gzip -9 (target < ${kb(JS_TARGET_BYTES)})`,
);
for (const s of [...r.scripts].sort((a, b) => b.gzip - a.gzip))
  console.log(`    ${kb(s.gzip).padStart(8)}  ${s.url}`);
const ok = r.lcpP90Ms < LCP_TARGET_MS && r.jsGzipBytes < JS_TARGET_BYTES;
console.log(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
