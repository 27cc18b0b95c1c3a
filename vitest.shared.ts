import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const globalSetup = fileURLToPath(new URL('./libs/test-kit/src/global-setup.ts', import.meta.url));

/** One test configuration for every project: real PostgreSQL and Redis, provided by test-kit. */
export function projectTestConfig(options: { slow?: boolean } = {}) {
  return defineConfig({
    test: {
      globalSetup: [globalSetup],
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      testTimeout: options.slow ? 120_000 : 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
      maxWorkers: 2,
    },
  });
}
