import { createHash } from 'node:crypto';
import { BundleError, readBundleDirectory, writeBundleArchive } from './archive';
import { MANIFEST_FILE, parseBundle } from './bundle';
import { packagePath } from './package-path';
import { SIGNATURES_FILE, signBundle, type SigningKey } from './signatures';

export interface BuildOptions {
  /** Manifest revision; default: the first 16 hex digits of the SHA-256 of the bundle's files. */
  readonly revision?: string;
  /** Manifest roots; default: the first segment of every package and every top-level data key. */
  readonly roots?: readonly string[];
  /** Globs (`*` within one path segment, `**` across) of files left out, e.g. `*_test.rego`. */
  readonly ignore?: readonly string[];
  readonly signer?: SigningKey;
}

export interface BuiltBundle {
  readonly archive: Buffer;
  readonly revision: string;
  readonly roots: readonly string[];
  readonly files: readonly string[];
}

function globToRegExp(glob: string): RegExp {
  const re = glob
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
    .join('.*');
  // A pattern without "/" applies to the base name, as `opa build --ignore` does.
  return new RegExp(glob.includes('/') ? `^${re}$` : `(^|/)${re}$`);
}

function isBundleContent(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.endsWith('.rego') || base === 'data.json' || base === 'data.yaml' || base === 'data.yml';
}

/**
 * `opa build -b DIR` for the sidecar: the directory's modules and data files, a `.manifest` with
 * revision and roots, optionally signed (`.signatures.json`, as `opa build --signing-key`). The
 * result is read back through the bundle reader, so a bundle that would be refused is not written.
 */
export async function buildBundle(dir: string, options: BuildOptions = {}): Promise<BuiltBundle> {
  const ignore = (options.ignore ?? []).map(globToRegExp);
  const all = await readBundleDirectory(dir);
  const files = new Map<string, Buffer>();
  for (const [path, content] of all) {
    if (path.split('/').some((s) => s.startsWith('.'))) continue;
    if (!isBundleContent(path) || ignore.some((re) => re.test(path))) continue;
    files.set(path, content);
  }
  if (files.size === 0) throw new BundleError(`${dir} has no .rego or data files`);

  let roots = options.roots ? [...options.roots] : undefined;
  if (!roots) {
    const found = new Set<string>();
    for (const [path, content] of files) {
      if (path.endsWith('.rego')) {
        const pkg = packagePath(content.toString('utf8'));
        if (!pkg) throw new BundleError(`cannot read the package of module '${path}'`);
        found.add(pkg[0]!);
      } else if (path.includes('/')) {
        found.add(path.slice(0, path.indexOf('/')));
      } else {
        const parsed = parseBundle(new Map([[path, content]]), { keys: {} });
        for (const k of Object.keys(parsed.data)) found.add(k);
      }
    }
    roots = [...found].sort();
  }
  const digest = createHash('sha256');
  for (const path of [...files.keys()].sort()) digest.update(path).update('\0').update(files.get(path)!);
  const revision = options.revision ?? digest.digest('hex').slice(0, 16);
  files.set(MANIFEST_FILE, Buffer.from(`${JSON.stringify({ revision, roots })}\n`));
  // Checked before signing (an unsigned read needs no keys): a bundle readers would refuse is never written.
  parseBundle(files, { keys: {} });
  if (options.signer) files.set(SIGNATURES_FILE, signBundle(files, options.signer));
  return { archive: await writeBundleArchive(files), revision, roots, files: [...files.keys()].sort() };
}
