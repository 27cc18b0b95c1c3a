/**
 * Bundles one app into dist/apps/<name>/ (main.js, cli.js, chunks/) for its container image; see
 * bundle-app.ts.
 *
 *   tsx tools/dev/src/bundle.ts apps/identity
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { bundleApp, REPO_ROOT } from './bundle-app';

const appDir = process.argv[2];
if (!appDir || !existsSync(join(appDir, 'src/main.ts'))) {
  process.stderr.write('usage: bundle.ts <app dir with src/main.ts>\n');
  process.exit(2);
}
const app = basename(resolve(appDir));
const outdir = join(REPO_ROOT, 'dist/apps', app);
try {
  await bundleApp(appDir, outdir);
  process.stdout.write(`bundled ${app} into ${outdir}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
