import { mergeConfig } from 'vitest/config';
import { projectTestConfig } from '../../vitest.shared';

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which Node's
// ESM loader refuses; run it through Vite's transform instead (test/deploy-ci.spec.ts). Its
// published source maps name sources it does not ship: `logLevel: 'error'` keeps Vite from
// printing a warning per file.
export default mergeConfig(projectTestConfig(), { logLevel: 'error', test: { server: { deps: { inline: ['@actions/workflow-parser'] } } } });
