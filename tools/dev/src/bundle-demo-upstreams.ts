/**
 * Bundles the demo upstreams (demo-upstreams-main.ts) into dist/demo-upstreams/main.js for their
 * image (infra/docker/demo/upstreams.Dockerfile), as bundle-app.ts does an app's: the workspace's
 * libraries inlined, npm packages external (infra/docker/prod-deps.mjs copies them).
 *
 *   tsx tools/dev/src/bundle-demo-upstreams.ts
 */
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { externalNpmPackages, REPO_ROOT } from './bundle-app';

const outdir = join(REPO_ROOT, 'dist/demo-upstreams');
try {
  await build({
    entryPoints: { main: join(REPO_ROOT, 'tools/dev/src/demo-upstreams-main.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    plugins: [externalNpmPackages],
    logLevel: 'warning',
  });
  // ESM output in a folder the root package.json does not mark as ESM.
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'package.json'), '{"type":"module"}\n');
  process.stdout.write(`bundled the demo upstreams into ${outdir}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
