import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each test file in its own child process (native modules, real servers, real client binaries).
    pool: 'forks',
    fileParallelism: true,
    // A 2-core machine: at most two test files at once (across both projects).
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}', 'bench/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // One shared ncr server per database kind for the whole run (test/helpers/shared.ts). A project of its own so
          // that a run of unit tests alone (vitest run src web) does not start them: vitest sets up a project's
          // globalSetup only when one of its files runs.
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
