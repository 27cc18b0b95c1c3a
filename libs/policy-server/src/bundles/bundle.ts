import { load as loadYaml } from 'js-yaml';
import type { RegoVersion } from '@cloud-stack/rego';
import type { BundleSigningConfig, KeyConfig } from '../config/opa-config';
import { BundleError, type BundleFiles } from './archive';
import { packagePath } from './package-path';
import { SIGNATURES_FILE, verifyBundleFiles, verifyBundleSignature } from './signatures';

export const MANIFEST_FILE = '.manifest';

export interface BundleManifest {
  readonly revision: string;
  /** Normalised (no leading or trailing "/"); `[""]` (the whole data tree) when the manifest names none. */
  readonly roots: readonly string[];
  readonly rego_version?: 0 | 1;
  readonly file_rego_versions?: Readonly<Record<string, 0 | 1>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface BundleModule {
  /** Path inside the bundle, without a leading "/". */
  readonly path: string;
  readonly source: string;
  /** From the manifest (`file_rego_versions`, then `rego_version`); undefined: the server's default. */
  readonly regoVersion?: RegoVersion;
}

export interface Bundle {
  readonly manifest: BundleManifest;
  readonly data: Record<string, unknown>;
  readonly modules: readonly BundleModule[];
  readonly signed: boolean;
}

export interface VerificationOptions {
  readonly keys: Readonly<Record<string, KeyConfig>>;
  /** The bundle's `signing` configuration; absent: a signed bundle is refused (OPA: "verification key not provided"). */
  readonly signing?: BundleSigningConfig;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OPA's gobwas/glob without separators, as `file_rego_versions` keys are matched: `*` crosses "/". */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new BundleError(`failed to compile glob pattern ${glob}`);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function regoVersionNumber(v: unknown, where: string): 0 | 1 {
  if (v === 0 || v === 1) return v;
  throw new BundleError(`unknown bundle rego-version ${JSON.stringify(v)} for ${where}`);
}

export function parseManifest(content: Buffer | undefined): BundleManifest {
  if (!content) return { revision: '', roots: [''] };
  let m: unknown;
  try {
    m = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new BundleError(`bundle load failed on manifest decode: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlainObject(m)) throw new BundleError('bundle load failed on manifest decode: the manifest must be a JSON object');
  const revision = m['revision'] ?? '';
  if (typeof revision !== 'string') throw new BundleError('bundle load failed on manifest decode: revision must be a string');
  const rawRoots = m['roots'] ?? [''];
  if (!Array.isArray(rawRoots) || !rawRoots.every((r) => typeof r === 'string')) {
    throw new BundleError('bundle load failed on manifest decode: roots must be a list of strings');
  }
  const roots = (rawRoots as string[]).map((r) => r.replace(/^\/+|\/+$/g, ''));
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (rootsOverlap(roots[i]!, roots[j]!)) throw new BundleError(`manifest has overlapped roots: '${roots[i]}' and '${roots[j]}'`);
    }
  }
  const fileVersions = m['file_rego_versions'];
  if (fileVersions !== undefined && !isPlainObject(fileVersions)) throw new BundleError('bundle load failed on manifest decode: file_rego_versions must be an object');
  const metadata = m['metadata'];
  if (metadata !== undefined && metadata !== null && !isPlainObject(metadata)) throw new BundleError('bundle load failed on manifest decode: metadata must be an object');
  return {
    revision,
    roots,
    rego_version: m['rego_version'] === undefined ? undefined : regoVersionNumber(m['rego_version'], 'the bundle'),
    file_rego_versions: fileVersions
      ? Object.fromEntries(Object.entries(fileVersions).map(([g, v]) => [g, regoVersionNumber(v, `file pattern '${g}'`)]))
      : undefined,
    metadata: isPlainObject(metadata) ? metadata : undefined,
  };
}

function segments(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

/** OPA's rootContains: the empty root contains everything; otherwise a segment-wise prefix. */
export function rootContains(root: string, path: string): boolean {
  const r = segments(root);
  const p = segments(path);
  return r.length <= p.length && r.every((s, i) => s === p[i]);
}

export function rootsOverlap(a: string, b: string): boolean {
  return rootContains(a, b) || rootContains(b, a);
}

function regoVersionFor(path: string, manifest: BundleManifest): RegoVersion | undefined {
  for (const [glob, v] of Object.entries(manifest.file_rego_versions ?? {})) {
    const re = globToRegExp(glob);
    if (re.test(path) || re.test(`/${path}`)) return v === 0 ? 'v0' : 'v1';
  }
  if (manifest.rego_version === undefined) return undefined;
  return manifest.rego_version === 0 ? 'v0' : 'v1';
}

/** OPA's merge.InterfaceMaps: objects merge recursively; anything else at the same key is a conflict. */
function mergeData(target: Record<string, unknown>, value: Record<string, unknown>, file: string): void {
  for (const [k, v] of Object.entries(value)) {
    const cur = target[k];
    if (cur === undefined) target[k] = v;
    else if (isPlainObject(cur) && isPlainObject(v)) mergeData(cur, v, file);
    else throw new BundleError(`bundle load failed on ${file}: failed to insert data file from path ${k}`);
  }
}

function insertData(data: Record<string, unknown>, dir: string[], value: unknown, file: string): void {
  if (dir.length === 0) {
    if (!isPlainObject(value)) throw new BundleError(`bundle load failed on ${file}: root value must be object`);
    mergeData(data, value, file);
    return;
  }
  let tree: unknown = value;
  for (let i = dir.length - 1; i >= 0; i--) tree = { [dir[i]!]: tree };
  mergeData(data, tree as Record<string, unknown>, file);
}

/** OPA's data check: every leaf lies under a root, or is an object on the way to one. */
function checkDataRoots(node: unknown, path: string[], roots: readonly string[]): void {
  const p = path.join('/');
  if (roots.some((r) => rootContains(r, p))) return;
  if (isPlainObject(node) && roots.some((r) => rootContains(p, r))) {
    for (const [k, v] of Object.entries(node)) checkDataRoots(v, [...path, k], roots);
    return;
  }
  throw new BundleError(`manifest roots [${roots.join(' ')}] do not permit data at path '/${p}' (hint: check bundle directory structure)`);
}

/**
 * Turns a bundle's files into its manifest, data and modules, with OPA's checks: the signature
 * first (when the bundle has one, or `signing.keyid` demands one), then the manifest, each data
 * file at its directory's path, and every module's package and every data path within the roots.
 */
export function parseBundle(files: BundleFiles, verification: VerificationOptions): Bundle {
  const signatures = files.get(SIGNATURES_FILE);
  if (signatures) {
    if (!verification.signing) throw new BundleError('verification key not provided');
    verifyBundleFiles(files, verifyBundleSignature(signatures, verification.keys, verification.signing), verification.signing.exclude_files);
  } else if (verification.signing?.keyid) {
    throw new BundleError('bundle missing .signatures.json file');
  }
  const manifest = parseManifest(files.get(MANIFEST_FILE));
  const data: Record<string, unknown> = {};
  const modules: BundleModule[] = [];
  for (const path of [...files.keys()].sort()) {
    const content = files.get(path)!;
    const base = path.slice(path.lastIndexOf('/') + 1);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')).split('/').filter((s) => s !== '' && s !== '.') : [];
    if (base.endsWith('.rego')) {
      modules.push({ path, source: content.toString('utf8'), regoVersion: regoVersionFor(path, manifest) });
    } else if (base === 'data.json' || base === 'data.yaml' || base === 'data.yml') {
      let value: unknown;
      try {
        value = base === 'data.json' ? JSON.parse(content.toString('utf8')) : loadYaml(content.toString('utf8'));
      } catch (err) {
        throw new BundleError(`bundle load failed on ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
      insertData(data, dir, value ?? {}, path);
    } else if (base === 'patch.json') {
      throw new BundleError('delta bundles (patch.json) are not supported');
    }
  }
  for (const m of modules) {
    const pkg = packagePath(m.source);
    if (pkg === undefined) throw new BundleError(`cannot read the package of module '${m.path}'`);
    if (!manifest.roots.some((r) => rootContains(r, pkg.join('/')))) {
      throw new BundleError(`manifest roots [${manifest.roots.join(' ')}] do not permit 'package ${pkg.join('.')}' in module '${m.path}'`);
    }
  }
  checkDataRoots(data, [], manifest.roots);
  return { manifest, data, modules, signed: signatures !== undefined };
}
