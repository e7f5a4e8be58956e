// Prints vitest's JSON report as one plain closing line: "<label>: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const [file, label = 'vitest'] = process.argv.slice(2);
if (!file) throw new Error('usage: node ops/test/summary.ts <report.json> [label]');
const report = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numFailedTestSuites: number;
  numPendingTests: number;
  numTodoTests: number;
};
// A file that fails to load runs no tests; count it as a failure so the line never reads clean.
const failed = report.numFailedTests + report.numFailedTestSuites;
console.log(
  `${label}: ${report.numPassedTests} passed, ${failed} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
);
