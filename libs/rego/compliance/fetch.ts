/**
 * `npm run rego:compliance:fetch [-- --force]`: fills the cache with OPA's compliance cases at the
 * pinned release (see opa-release.ts), so `npm test` and `npm run rego:compliance` find them.
 * Any failure is one line on stderr and exit status 1.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { FetchCasesError, fetchCases } from './fetch-cases';
import { REPO_ROOT } from './locate';
import { OPA_CASES_PATH, OPA_RELEASE, casesCacheDir, opaSourceArchiveUrl } from './opa-release';

async function main(argv: readonly string[]): Promise<number> {
  const dest = casesCacheDir(REPO_ROOT);
  const shown = relative(process.cwd(), dest) || dest;
  if (existsSync(dest) && !argv.includes('--force')) {
    console.log(`OPA ${OPA_RELEASE} compliance cases already in ${shown} (--force to fetch again)`);
    return 0;
  }
  const url = opaSourceArchiveUrl();
  try {
    const { files } = await fetchCases({ url, dest });
    console.log(`${files} case files of OPA ${OPA_RELEASE} (${OPA_CASES_PATH}) in ${shown}`);
    return 0;
  } catch (e) {
    const message = e instanceof FetchCasesError ? e.message : e instanceof Error ? e.message.split('\n')[0] : String(e);
    console.error(`rego:compliance:fetch: ${message} (or set OPA_COMPLIANCE_DIR to a copy of OPA's ${OPA_CASES_PATH})`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
