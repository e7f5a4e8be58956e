import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

// The web's own unit tests (pure logic under src/); the root config runs api, indexer and migrations.
export default defineConfig({
  plugins: [sveltekit()],
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
