// Renders the Open Graph images of /verify/[id] (1200×630 PNG, one per certificate status) into
// static/og/ with the same Chromium the browser tests use. Run after changing the design:
//   node web/scripts/og-images.ts
import { join } from 'node:path';
import { launch } from '../e2e/browser.ts';
import { root } from '../e2e/stack.ts';

const STATUSES = {
  valid: { chip: 'Valid', tone: '#16a34a', title: 'Certificate verified on Stellar' },
  pending: { chip: 'Pending', tone: '#f59e0b', title: 'Certificate issued — being recorded on Stellar' },
  revoked: { chip: 'Revoked', tone: '#dc2626', title: 'This certificate was revoked' },
} as const;

const page = (s: (typeof STATUSES)[keyof typeof STATUSES]) => `<!doctype html>
<html><head><style>
  html, body { margin: 0; width: 1200px; height: 630px; }
  body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #fff;
    background: #1d3a8a; /* flat: a gradient makes the PNG ten times larger */
    display: flex; flex-direction: column; justify-content: space-between; padding: 72px 84px; box-sizing: border-box; }
  .brand { display: flex; align-items: center; gap: 20px; font-size: 40px; font-weight: 700; letter-spacing: .5px; }
  .chip { display: inline-block; padding: 10px 26px; border-radius: 999px; font-size: 30px; font-weight: 700;
    background: ${s.tone}; color: #fff; }
  h1 { font-size: 68px; line-height: 1.1; margin: 26px 0 0; max-width: 980px; }
  p { font-size: 30px; color: #dbe4ff; margin: 0; }
  .rule { height: 8px; width: 180px; background: #fbbf24; border-radius: 4px; margin-bottom: 22px; }
</style></head><body>
  <div class="brand">
    <svg width="72" height="72" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#fff" fill-opacity=".12"/><path d="M16 6l2.9 6.6 7.1.6-5.4 4.7 1.6 7-6.2-3.7-6.2 3.7 1.6-7L6 13.2l7.1-.6z" fill="#fbbf24"/></svg>
    Starling
  </div>
  <div><span class="chip">${s.chip}</span><h1>${s.title}</h1></div>
  <div><div class="rule"></div><p>Anyone can check it against the Stellar ledger.</p></div>
</body></html>`;

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 630 }, deviceScaleFactor: 1 });
  const tab = await context.newPage();
  for (const [name, s] of Object.entries(STATUSES)) {
    await tab.setContent(page(s));
    const path = join(root, `web/static/og/certificate-${name}.png`);
    await tab.screenshot({ path, type: 'png' });
    process.stdout.write(`wrote ${path}\n`);
  }
} finally {
  await browser.close();
}
