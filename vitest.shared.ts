import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const globalSetup = fileURLToPath(new URL('./libs/test-kit/src/global-setup.ts', import.meta.url));

/** One test configuration for every project: real PostgreSQL and Redis, provided by test-kit. */
export function projectTestConfig(options: { slow?: boolean } = {}) {
  // Each project also writes a JSON report, summed up by tools/dev/src/test-summary.ts in CI, at
  // tmp/test-results/<project root>.json: nx.json declares that path as the test target's output,
  // so a cache hit restores the report and the summary still counts the project.
  const project = relative(root, process.cwd()).replace(/\\/g, '/') || 'root';
  return defineConfig({
    test: {
      globalSetup: [globalSetup],
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      testTimeout: options.slow ? 120_000 : 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
      maxWorkers: 2,
      reporters: ['default', ['json', { outputFile: `${root}/tmp/test-results/${project}.json` }]],
    },
  });
}
