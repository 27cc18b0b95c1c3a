import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep, dirname } from 'node:path';
import { load as loadYaml } from 'js-yaml';

export interface LoadedModule {
  /** The policy id: the file's path relative to the directory, with forward slashes (as `opa run` names them). */
  readonly id: string;
  readonly source: string;
}

export interface LoadedDirectory {
  readonly modules: readonly LoadedModule[];
  /** The base data document: each data.json/data.yaml merged at its directory's path. */
  readonly data: Record<string, unknown>;
}

/** Thrown when a data file cannot be read or merged; carries the file for the error report. */
export class DataFileError extends Error {
  override name = 'DataFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // ..data symlinks of mounted ConfigMaps, editor swap files
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(full);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(target: Record<string, unknown>, path: readonly string[], value: unknown, file: string): void {
  let node = target;
  for (const key of path) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isPlainObject(next)) throw new DataFileError(file, `conflicts with data at ${path.join('.')}`);
    node = node[key] as Record<string, unknown>;
  }
  if (!isPlainObject(value)) {
    if (path.length === 0) throw new DataFileError(file, 'the root data document must be an object');
    throw new DataFileError(file, 'a data file must contain an object');
  }
  for (const [k, v] of Object.entries(value)) {
    if (isPlainObject(node[k]) && isPlainObject(v)) mergeInto(node, [k], v, file);
    else if (node[k] !== undefined) throw new DataFileError(file, `key ${k} is defined twice`);
    else node[k] = v;
  }
}

/** Reads every *.rego and data.json/data.yaml under `dir` (recursively, sorted by path). */
export async function loadDirectory(dir: string): Promise<LoadedDirectory> {
  const files: string[] = [];
  await walk(dir, files);
  files.sort();
  const modules: LoadedModule[] = [];
  const data: Record<string, unknown> = {};
  for (const file of files) {
    const rel = relative(dir, file).split(sep).join('/');
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (name.endsWith('.rego')) {
      modules.push({ id: rel, source: await readFile(file, 'utf8') });
    } else if (DATA_FILES.has(name)) {
      const text = await readFile(file, 'utf8');
      let value: unknown;
      try {
        value = name.endsWith('.json') ? JSON.parse(text) : loadYaml(text);
      } catch (err) {
        throw new DataFileError(rel, err instanceof Error ? err.message.split('\n')[0]! : String(err));
      }
      const at = dirname(rel) === '.' ? [] : dirname(rel).split('/');
      mergeInto(data, at, value ?? {}, rel);
    }
  }
  return { modules, data };
}
