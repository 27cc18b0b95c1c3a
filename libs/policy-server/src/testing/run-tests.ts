import { compileModules, type RegoVersion } from '@cloud-stack/rego';
import { engineErrorDetails } from '../opa/errors';
import { loadDirectory } from '../store/load-directory';

export type PolicyTestStatus = 'PASS' | 'FAIL' | 'ERROR';

export interface PolicyTestResult {
  /** `data.<package>.<rule>`, as `opa test` names it. */
  readonly name: string;
  readonly status: PolicyTestStatus;
  readonly durationNs: number;
  readonly error?: string;
}

export interface PolicyTestReport {
  readonly results: readonly PolicyTestResult[];
  readonly passed: number;
  readonly failed: number;
  /** Set when the modules did not compile; no test ran. */
  readonly compileError?: string;
}

export interface PolicyTestOptions {
  /** `v0`: parse the modules as Rego v0, as `opa test --v0-compatible` (default `v1`). */
  readonly regoVersion?: RegoVersion;
}

/**
 * Runs every `test_*` rule of the directory's modules the way `opa test` does: a test passes when
 * its rule is defined and true; false or undefined fails; an evaluation error is an ERROR.
 */
export async function runPolicyTests(dir: string, options: PolicyTestOptions = {}): Promise<PolicyTestReport> {
  const { modules, data } = await loadDirectory(dir);
  let set;
  try {
    set = compileModules(
      modules.map((m) => ({ file: m.id, source: m.source })),
      { regoVersion: options.regoVersion ?? 'v1' },
    );
  } catch (err) {
    const text = engineErrorDetails(err)
      .map((e) => `${e.location ? `${e.location.file}:${e.location.row}: ` : ''}${e.code}: ${e.message}`)
      .join('\n');
    return { results: [], passed: 0, failed: 1, compileError: text };
  }
  const results: PolicyTestResult[] = [];
  for (const test of set.testRules()) {
    const name = ['data', ...test.path].join('.');
    const started = process.hrtime.bigint();
    let status: PolicyTestStatus;
    let error: string | undefined;
    try {
      const out = set.evaluate(test.path, { data });
      status = out.defined && out.result === true ? 'PASS' : 'FAIL';
    } catch (err) {
      status = 'ERROR';
      error = engineErrorDetails(err)
        .map((e) => `${e.location ? `${e.location.file}:${e.location.row}: ` : ''}${e.code}: ${e.message}`)
        .join('; ');
    }
    results.push({ name, status, durationNs: Number(process.hrtime.bigint() - started), error });
  }
  const passed = results.filter((r) => r.status === 'PASS').length;
  return { results, passed, failed: results.length - passed };
}
