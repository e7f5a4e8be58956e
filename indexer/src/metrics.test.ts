// The alert rules and the dashboard only name metrics the daemon exports (a renamed metric
// would silently blind both).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { repoRoot } from './test/harness.ts';

describe('ops/monitoring', () => {
  it('references only exported metrics', async () => {
    const m = createMetrics();
    const exported = new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
    const files = ['ops/monitoring/indexer-alerts.yml', 'ops/monitoring/grafana-indexer.json'];
    for (const f of files) {
      const text = readFileSync(join(repoRoot, f), 'utf8');
      const names = new Set(
        [...text.matchAll(/starling_indexer_[a-z_]+/g)].map((x) => x[0].replace(/_(bucket|sum|count)$/, '')),
      );
      expect(names.size).toBeGreaterThan(5);
      for (const n of names) expect(exported, `${f}: ${n}`).toContain(n);
    }
  });
});
