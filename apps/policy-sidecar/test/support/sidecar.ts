import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@cloud-stack/service-kit';
import { readPolicyServerConfig, type DecisionLogSink } from '@cloud-stack/policy-server';
import { createPolicySidecarApp, type PolicySidecarApp } from '../../src/app';

/** The repository's policy directory (infra/policies). */
export const INFRA_POLICIES = fileURLToPath(new URL('../../../../infra/policies', import.meta.url));

/** A throw-away policy directory with the given files (path → content). */
export function tempPolicyDir(files: Record<string, string>): { dir: string; write(path: string, content: string): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'policy-sidecar-'));
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  for (const [path, content] of Object.entries(files)) write(path, content);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The sidecar app as main.ts composes it, with test defaults (no watch, no decision logs). */
export async function sidecar(env: Record<string, string>, options: { sink?: DecisionLogSink } = {}): Promise<PolicySidecarApp> {
  const config = readPolicyServerConfig({ POLICY_WATCH: 'false', DECISION_LOG_SINK: 'none', ...env });
  return createPolicySidecarApp(config, createLogger('policy-sidecar', 'silent'), options);
}
