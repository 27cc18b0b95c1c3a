import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The rules that fire on `code` as if it were the file at `file` (relative to the repository). */
async function rulesFiredOn(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? 'parse');
}

describe('module boundaries hold however lint is run', () => {
  it('refuses a lib importing an app, by package name or by path', async () => {
    expect(await rulesFiredOn('libs/gateway-routing/src/x.ts', "import { createGateway } from '@cloud-stack/gateway';\nexport const x = createGateway;\n")).toContain('no-restricted-imports');
    expect(await rulesFiredOn('libs/db/src/x.ts', "import { readGatewayConfig } from '../../../apps/gateway/src/config';\nexport const x = readGatewayConfig;\n")).not.toHaveLength(0);
  });

  it('refuses an app importing another app, and a deep import into a lib', async () => {
    expect(await rulesFiredOn('apps/gateway/src/x.ts', "import { createIdentityApp } from '@cloud-stack/identity';\nexport const x = createIdentityApp;\n")).toContain('no-restricted-imports');
    expect(await rulesFiredOn('apps/gateway/src/x.ts', "import { x as y } from '@cloud-stack/db/src/connection';\nexport const x = y;\n")).toContain('no-restricted-imports');
  });

  it('lets an app import a lib by its package name', async () => {
    expect(await rulesFiredOn('apps/gateway/src/x.ts', "import { createDb } from '@cloud-stack/db';\nexport const x = createDb;\n")).toEqual([]);
  });
});
