import { build, type Metafile, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cloud-stack/') ? undefined : { path: args.path, external: true }));
  },
};

/**
 * Bundles one app (a folder with src/main.ts, maybe src/cli.ts) into `outdir` as ESM: main.js,
 * cli.js, chunks/ and a package.json marking the folder as ESM. The workspace's own libraries are
 * inlined (they are TypeScript sources), npm packages stay external. Code splitting keeps each
 * dynamic import a chunk of its own, loaded when the import runs: that is how main.ts starts
 * telemetry before express, pg or ioredis load. Throws when main.js would load an npm package
 * other than OpenTelemetry before its first line runs (the instrumentations could not patch it).
 * `outdir` must lie inside the repository so the externals resolve from its node_modules.
 */
export async function bundleApp(appDir: string, outdir: string): Promise<void> {
  const entryPoints = ['src/main.ts', 'src/cli.ts'].map((f) => join(appDir, f)).filter((f) => existsSync(f));
  if (!entryPoints[0]?.endsWith('main.ts')) throw new Error(`${appDir}: no src/main.ts to bundle`);
  // Chunk names carry content hashes: without this, every rebuild would leave the previous ones.
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    metafile: true,
    plugins: [externalNpmPackages],
    logLevel: 'warning',
  });
  // The bundle is ESM; the root package.json is not, so mark the output folder.
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'package.json'), '{"type":"module"}\n');
  const early = staticExternals(result.metafile, relative(process.cwd(), join(outdir, 'main.js'))).filter((p) => !isBuiltin(p) && !p.startsWith('@opentelemetry/'));
  if (early.length) throw new Error(`${appDir}: main.js loads ${early.join(', ')} before it starts telemetry; import them dynamically after startTelemetry()`);
}

/** The external packages an output file loads through static imports, its own and its chunks'. */
function staticExternals(metafile: Metafile, output: string): string[] {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const out = metafile.outputs[file];
    if (!out) throw new Error(`esbuild wrote no ${file}`);
    for (const imp of out.imports) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external) externals.add(imp.path);
      else visit(imp.path);
    }
  };
  visit(output);
  return [...externals];
}
