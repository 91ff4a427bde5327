import { defineConfig } from 'vitest/config';

// One Vite config for the repo: vitest runs every workspace's tests (placed next to the code they test).
export default defineConfig({
  test: {
    include: ['runtime/src/**/*.test.ts', 'nodes/*/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
