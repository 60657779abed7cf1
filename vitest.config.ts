import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each test file in its own child process (native modules, real servers, real client binaries).
    pool: 'forks',
    fileParallelism: true,
    // A 2-core machine: at most two test files at once.
    maxWorkers: 2,
  },
});
