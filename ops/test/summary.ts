// Prints vitest JSON reports as one plain closing line: "<label>: N passed, N failed, N skipped".
// One report: labelled by its file name; several: their total, labelled "all".
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { status: string; assertionResults: unknown[] }[];
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: node ops/test/summary.ts <report.json>…');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
  passed += r.numPassedTests;
  // A file that fails to load runs no tests; count it as a failure so the line never reads clean.
  const unloaded = r.testResults.filter(
    (f) => f.status === 'failed' && f.assertionResults.length === 0,
  ).length;
  failed += r.numFailedTests + unloaded;
  skipped += r.numPendingTests + r.numTodoTests;
}
const label = files.length === 1 ? basename(files[0]!, '.json') : 'all';
console.log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
