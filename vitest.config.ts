import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./ops/test/global-setup.ts'],
    include: [
      'api/src/**/*.test.ts',
      'migrations/src/**/*.test.ts',
      'indexer/src/**/*.test.ts',
      'ops/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
