/**
 * Reads compliance cases as OPA publishes them (`v1/test/cases/testdata/v1/<category>/*.yaml`,
 * each file a top-level `cases:` list) and as one JSON file per category (`{category, cases}`).
 * Both walk the same way: every .yaml/.yml/.json file under the folder, in name order like Go's
 * filepath.Walk, the category being a file's first folder (or, at the top, its own name).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import {
  NOT_RESOLVED,
  Schema,
  boolYaml11Tag,
  defineScalarTag,
  floatYaml11Tag,
  intYaml11Tag,
  load,
  mapTag,
  mergeTag,
  nullYaml11Tag,
  seqTag,
  strTag,
} from 'js-yaml';
import { parseJSON, toJSON } from '../src/value';
import type { ComplianceCase } from './cases';

const CASE_FILE = new Set(['.yaml', '.yml', '.json']);

/** Reads every case file under `dir`; big integers stay exact (as bigint). */
export function loadCases(dir: string): ComplianceCase[] {
  const out: ComplianceCase[] = [];
  const seen = new Map<string, Map<string, number>>();
  for (const file of walk(dir)) {
    const rel = relative(dir, file);
    const doc = readCaseFile(file);
    if (!doc) continue;
    const parts = rel.split(sep);
    const category = doc.category ?? (parts.length > 1 ? parts[0]! : parts[0]!.slice(0, -extname(rel).length));
    const notes = seen.get(category) ?? new Map<string, number>();
    seen.set(category, notes);
    doc.cases.forEach((raw, i) => {
      const c = toCase(raw, `${rel} case ${i + 1}`);
      // Some notes repeat within a category; number repeats so every case has its own id.
      const n = (notes.get(c.note) ?? 0) + 1;
      notes.set(c.note, n);
      out.push({ ...c, category, note: n > 1 ? `${c.note} [${n}]` : c.note });
    });
  }
  return out;
}

interface CaseFile {
  readonly category?: string;
  readonly cases: readonly unknown[];
}

/** A case file's cases, or undefined for a file that holds none (e.g. some other JSON). */
function readCaseFile(file: string): CaseFile | undefined {
  const text = readFileSync(file, 'utf8');
  let doc: unknown;
  try {
    doc = extname(file) === '.json' ? toJSON(parseJSON(text)) : load(text, { schema: OPA_YAML_SCHEMA, filename: file });
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (!isRecord(doc) || !Array.isArray(doc['cases'])) return undefined;
  const category = doc['category'];
  return { cases: doc['cases'], ...(typeof category === 'string' ? { category } : {}) };
}

const STRING_FIELDS = ['note', 'query', 'input_term', 'want_error', 'want_error_code'] as const;
const BOOLEAN_FIELDS = ['want_defined', 'sort_bindings', 'strict_error'] as const;

/** Checks the fields the runner relies on; a null field counts as absent, as in OPA's Go struct. */
function toCase(raw: unknown, where: string): Omit<ComplianceCase, 'category'> {
  if (!isRecord(raw)) throw new Error(`${where}: a case must be a mapping`);
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== null && v !== undefined) c[k] = v;
  for (const f of STRING_FIELDS) {
    if (c[f] !== undefined && typeof c[f] !== 'string') throw new Error(`${where}: ${f} must be a string`);
  }
  for (const f of BOOLEAN_FIELDS) {
    if (c[f] !== undefined && typeof c[f] !== 'boolean') throw new Error(`${where}: ${f} must be true or false`);
  }
  if (typeof c['query'] !== 'string') throw new Error(`${where}: query is missing`);
  if (c['modules'] !== undefined && !(Array.isArray(c['modules']) && c['modules'].every((m) => typeof m === 'string'))) {
    throw new Error(`${where}: modules must be a list of strings`);
  }
  if (c['want_result'] !== undefined && !(Array.isArray(c['want_result']) && c['want_result'].every(isRecord))) {
    throw new Error(`${where}: want_result must be a list of mappings`);
  }
  if (c['env'] !== undefined && !(isRecord(c['env']) && Object.values(c['env']).every((v) => typeof v === 'string'))) {
    throw new Error(`${where}: env must map names to strings`);
  }
  return { ...(c as unknown as ComplianceCase), note: typeof c['note'] === 'string' ? c['note'] : '' };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Files in name order (byte order, as Go sorts), folders entered where they sort. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(path));
    else if (e.isFile() && CASE_FILE.has(extname(e.name))) out.push(path);
  }
  return out;
}

/**
 * OPA reads its YAML with go-yaml v2 (through sigs.k8s.io/yaml), so YAML 1.1 scalars apply:
 * `y`/`yes`/`on` are true, `1e3` is a number, timestamps stay strings. Integers beyond 2^53 are
 * kept exact, as OPA keeps them.
 */
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DECIMAL_INT = /^[-+]?[1-9][0-9_]*$/;

const exactIntTag = defineScalarTag<number | bigint>(intYaml11Tag.tagName, {
  implicit: true,
  implicitFirstChars: intYaml11Tag.implicitFirstChars,
  resolve(source, isExplicit, tagName) {
    const v = intYaml11Tag.resolve(source, isExplicit, tagName);
    if (v === NOT_RESOLVED || Number.isSafeInteger(v) || !DECIMAL_INT.test(source)) return v;
    return BigInt(source.replace(/_/g, ''));
  },
  identify: () => false,
});

const goFloatTag = defineScalarTag<number>(floatYaml11Tag.tagName, {
  implicit: true,
  implicitFirstChars: null,
  resolve(source, isExplicit, tagName) {
    if (GO_FLOAT.test(source)) return Number(source);
    return floatYaml11Tag.resolve(source, isExplicit, tagName);
  },
  identify: () => false,
});

const OPA_YAML_SCHEMA = new Schema([strTag, seqTag, mapTag, nullYaml11Tag, boolYaml11Tag, exactIntTag, goFloatTag, mergeTag]);
