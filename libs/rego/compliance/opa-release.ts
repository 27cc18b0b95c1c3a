/** Which OPA release the compliance cases come from, and where they are cached once fetched. */
import { join } from 'node:path';

/** Pinned so a run is reproducible; raising it may bring new cases (the ratchet then names them). */
export const OPA_RELEASE = 'v1.19.0';

/** OPA's own test cases inside its source tree: one folder per category of YAML files. */
export const OPA_CASES_PATH = 'v1/test/cases/testdata/v1';

export function opaSourceArchiveUrl(tag: string = OPA_RELEASE): string {
  return `https://codeload.github.com/open-policy-agent/opa/tar.gz/refs/tags/${tag}`;
}

/** Git-ignored; one folder per release so switching the pin never mixes two suites. */
export function casesCacheDir(repoRoot: string, tag: string = OPA_RELEASE): string {
  return join(repoRoot, '.cache', 'opa-compliance', tag);
}
