import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:identity', onlyDependOnLibsWithTags: ['scope:identity', 'scope:shared'] },
            { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:policy', 'scope:shared'] },
            { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:audit', 'scope:shared'] },
            // The gateway embeds the policy engine (POLICY_MODE=embedded).
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:policy', 'scope:shared'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:identity', 'scope:policy', 'scope:audit', 'scope:gateway', 'scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Apps are composition roots: nothing imports one. The boundary rule above cannot see an app
    // imported by its package name (apps export nothing, so the name does not map to a project in
    // the graph), so the names are banned outright; this also holds for a bare `eslint .`.
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@cloud-stack/identity', '@cloud-stack/gateway', '@cloud-stack/policy-sidecar', '@cloud-stack/audit-writer', '@cloud-stack/*/src/*', '**/apps/*/src/*'],
              message: 'apps are composition roots and libs have one public index: import a lib by its package name',
            },
          ],
        },
      ],
    },
  },
  {
    // Test configs share the workspace-level vitest settings by path.
    files: ['**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
