// Copies into OUT/node_modules only the npm packages an app's bundle imports, and what those need
// in turn, as package-lock.json resolved them: the image gets its own app's production
// dependencies, not the whole monorepo's. Runs in the images' build stage:
//
//   node infra/docker/prod-deps.mjs dist/apps/gateway /deps
//
// The bundle's externals are its bare imports (esbuild inlines the workspace's own libraries);
// esbuild (a dev dependency, present in the build stage) lists them.
// Prints the packages it copied, one a line.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';
import { join, resolve } from 'node:path';

const [distDir, outDir, root = '.'] = process.argv.slice(2);
if (!distDir || !outDir) {
  process.stderr.write('usage: prod-deps.mjs <bundle dir> <out dir> [repo root]\n');
  process.exit(2);
}

/** Packages the bundle imports, found by esbuild re-reading its entry files (exact, unlike a regex over the code). */
async function externals(dir) {
  const entryPoints = ['main.js', 'cli.js'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  const { metafile } = await build({ entryPoints, bundle: true, write: false, outdir: 'unused', platform: 'node', format: 'esm', packages: 'external', metafile: true, logLevel: 'error' });
  const found = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:') || isBuiltin(imported.path)) continue;
      found.add(imported.path.split('/').slice(0, imported.path.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  return found;
}

const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;

/** Node's lookup: the nearest node_modules/<name> from `from` upwards, as the lockfile lays them out. */
function locate(name, from) {
  for (let base = from; ; ) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

const wanted = new Set();
const queue = [...(await externals(distDir))].map((name) => {
  const at = locate(name, '');
  if (!at) throw new Error(`prod-deps: ${distDir} imports ${name}, which package-lock.json does not have`);
  return at;
});
while (queue.length) {
  const at = queue.pop();
  if (wanted.has(at)) continue;
  const entry = lock[at];
  if (entry.link) throw new Error(`prod-deps: ${at} is a workspace package; the bundle should have inlined it`);
  wanted.add(at);
  const deps = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
  for (const name of Object.keys(deps)) {
    const found = locate(name, at);
    // An optional or peer dependency the lockfile left out (another platform's binary, an unused peer).
    if (found) queue.push(found);
    else if (entry.dependencies?.[name]) throw new Error(`prod-deps: ${at} needs ${name}, which package-lock.json does not have`);
  }
}

// A package's folder holds its nested node_modules: copying the outermost folders copies those too.
const outermost = [...wanted].sort().filter((at, i, all) => !all.slice(0, i).some((parent) => at.startsWith(`${parent}/`)));
for (const at of outermost) {
  // Optional platform packages appear in the lockfile but only the matching one is installed.
  if (!existsSync(join(root, at))) continue;
  cpSync(join(root, at), join(resolve(outDir), at), { recursive: true, dereference: true });
  process.stdout.write(`${at.replace(/^node_modules\//, '')}\n`);
}
