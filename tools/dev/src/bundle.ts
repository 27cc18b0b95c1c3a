/**
 * Bundles one app into dist/apps/<name>/main.js for its container image: the workspace's own
 * libraries are inlined (they are TypeScript sources), npm packages stay external and come
 * from the image's node_modules.
 *
 *   tsx tools/dev/src/bundle.ts apps/identity
 */
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const appDir = process.argv[2];
if (!appDir || !existsSync(join(appDir, 'src/main.ts'))) {
  process.stderr.write('usage: bundle.ts <app dir with src/main.ts>\n');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '../../..');

const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cloud-stack/') ? undefined : { path: args.path, external: true }));
  },
};

const outdir = join(root, 'dist/apps', basename(resolve(appDir)));
const entryPoints = ['src/main.ts', 'src/cli.ts'].map((f) => join(appDir, f)).filter((f) => existsSync(f));
await build({
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  plugins: [externalNpmPackages],
  logLevel: 'info',
});
// The bundle is ESM; the root package.json is not, so mark the output folder.
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, 'package.json'), '{"type":"module"}\n');
