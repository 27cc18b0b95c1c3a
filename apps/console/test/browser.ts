import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function installed(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Debian's Chromium: found, or installed with apt-get (as root, or through passwordless sudo).
 * Returns its path, or why there is none (the suite is then skipped with that one line).
 */
export function ensureChromium(): { path: string } | { skip: string } {
  const found = installed();
  if (found) return { path: found };
  console.log('console browser tests: Chromium is missing; trying `apt-get install -y chromium`…');
  const asRoot = process.getuid?.() === 0;
  const apt = (...args: string[]) =>
    spawnSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  let run = apt('install', '-y', 'chromium');
  // A fresh machine may have no package lists yet.
  if (run.status !== 0 && !run.error) {
    apt('update');
    run = apt('install', '-y', 'chromium');
  }
  const after = installed();
  if (after) return { path: after };
  let why = run.error ? run.error.message : `apt-get exited ${run.status}`;
  try {
    execFileSync('apt-cache', ['policy', 'chromium'], { stdio: 'ignore' });
  } catch {
    why = 'no apt on this machine';
  }
  return { skip: `console browser tests skipped: no Chromium at ${CANDIDATES.join(' or ')} and it could not be installed (${why})` };
}
