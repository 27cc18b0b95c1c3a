import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the workspace's shared test settings, by path as every vitest.config.ts
import { projectTestConfig } from '../../../../../vitest.shared';

// These tests read files outside the project (infra/policies, docker-compose.yml, infra/docker):
// Nx must hash them, or a changed policy replays a cached green result.
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const nx = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8')) as {
  namedInputs: Record<string, Array<string | Record<string, string>>>;
  targetDefaults: { test: { inputs: Array<string | Record<string, unknown>>; outputs?: string[] } };
};

/** Every input of the test target, named inputs expanded. */
function testInputs(): Array<string | Record<string, unknown>> {
  const out: Array<string | Record<string, unknown>> = [];
  const expand = (input: string | Record<string, unknown>): void => {
    if (typeof input === 'string' && nx.namedInputs[input]) nx.namedInputs[input]!.forEach(expand);
    else out.push(input);
  };
  nx.targetDefaults.test.inputs.forEach(expand);
  return out;
}

describe('Nx test inputs and outputs', () => {
  it('hash the infra files and the compliance cases that tests read outside their project', () => {
    const inputs = testInputs();
    const globs = inputs.filter((i): i is string => typeof i === 'string');
    for (const file of ['infra/policies/gateway/authz.rego', 'infra/seed/demo.json', 'infra/docker/policy-sidecar.Dockerfile', 'docker-compose.yml']) {
      expect(
        globs.some((g) => g === `{workspaceRoot}/${file}` || (g.endsWith('/**/*') && `{workspaceRoot}/${file}`.startsWith(g.slice(0, -'**/*'.length)))),
        file,
      ).toBe(true);
    }
    expect(inputs).toContainEqual({ env: 'OPA_COMPLIANCE_DIR' });
    expect(inputs).toContainEqual({ runtime: 'node tools/dev/src/test-fixtures-fingerprint.mjs' });
  });

  it('declare as output the JSON report vitest writes, so a cache hit restores it for the CI summary', () => {
    const reporters = projectTestConfig().test?.reporters as Array<string | [string, { outputFile: string }]>;
    const json = reporters.find((r): r is [string, { outputFile: string }] => Array.isArray(r) && r[0] === 'json')!;
    const projectRoot = relative(ROOT, process.cwd()).replace(/\\/g, '/');
    const declared = nx.targetDefaults.test.outputs?.map((o) => normalize(o.replace('{workspaceRoot}', ROOT).replace('{projectRoot}', projectRoot)));
    expect(declared).toContain(normalize(json[1].outputFile));
  });
});

describe('the compliance-case fingerprint (an Nx runtime input)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opa-cases-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fingerprint = () =>
    execFileSync(process.execPath, [join(ROOT, 'tools/dev/src/test-fixtures-fingerprint.mjs')], { env: { ...process.env, OPA_COMPLIANCE_DIR: dir }, encoding: 'utf8' });

  it('changes when a case changes', () => {
    writeFileSync(join(dir, 'case.yaml'), 'cases: []\n');
    const before = fingerprint();
    expect(fingerprint()).toBe(before);
    writeFileSync(join(dir, 'case.yaml'), 'cases: [{note: changed}]\n');
    expect(fingerprint()).not.toBe(before);
  });
});
