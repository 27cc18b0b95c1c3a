/**
 * Finds OPA's compliance cases: `OPA_COMPLIANCE_DIR`, else the team's sibling folder when a
 * checkout has one beside it, else the cache `npm run rego:compliance:fetch` fills. The cases are
 * never part of the repository, so a clone without any of these still tests everything else.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPA_RELEASE, casesCacheDir } from './opa-release';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export type CasesSource = 'env' | 'sibling' | 'cache';

export interface CasesLocation {
  readonly dir: string;
  readonly source: CasesSource;
}

/** The one line printed wherever the cases are missing. */
export const MISSING_CASES_HINT =
  `OPA compliance cases not found: run \`npm run rego:compliance:fetch\` (OPA ${OPA_RELEASE}) or set OPA_COMPLIANCE_DIR to a folder of OPA's test cases`;

export interface LocateOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly repoRoot?: string;
  readonly cwd?: string;
}

export function locateCases(options: LocateOptions = {}): CasesLocation | undefined {
  const env = options.env ?? process.env;
  const root = options.repoRoot ?? REPO_ROOT;
  const fromEnv = env['OPA_COMPLIANCE_DIR'];
  if (fromEnv) {
    const dir = resolve(options.cwd ?? process.cwd(), fromEnv);
    // A variable set to a wrong path is a mistake to report, not a reason to skip quietly.
    if (!isDirectory(dir)) throw new Error(`OPA_COMPLIANCE_DIR=${fromEnv}: not a directory`);
    return { dir, source: 'env' };
  }
  const sibling = resolve(root, '../shared/opa-compliance');
  if (isDirectory(sibling)) return { dir: sibling, source: 'sibling' };
  const cache = casesCacheDir(root);
  if (isDirectory(cache)) return { dir: cache, source: 'cache' };
  return undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
