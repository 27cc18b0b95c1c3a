import type { PolicySnapshot } from '../store/policy-store';
import type { DecisionLogEntry } from './types';
import { pathEscape } from '../go-url';

/**
 * OPA's decision-log mask policy (`decision_logs.mask_decision`, default `data.system.log.mask`,
 * v1/plugins/logs/mask.go): evaluated with the decision-log event as input, it answers a set of
 * rules — a string `/input/...` or `/result/...` erases that field (listed under `erased`), an
 * object `{"op": "remove"|"upsert", "path", "value"}` erases or writes it (upserts listed under
 * `masked`). A rule set OPA would refuse, or an evaluation error, drops the event: it is never
 * shipped unmasked.
 */

type MaskOp = 'remove' | 'upsert';
type Part = 'input' | 'result' | 'nd_builtin_cache';

interface MaskRule {
  readonly op: MaskOp;
  /** Path segments as OPA keeps them: url.PathEscape'd (a plain key is unchanged). */
  readonly parts: readonly string[];
  readonly value: unknown;
}

export class MaskRuleError extends Error {
  override name = 'MaskRuleError';
}


function checkUnescape(segment: string): void {
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(segment);
  if (bad) throw new MaskRuleError(`invalid URL escape ${JSON.stringify(segment.slice(bad.index, bad.index + 3))}`);
}

/** newMaskRule: a slash-prefixed path under input, result or nd_builtin_cache. */
function newRule(path: string, op: string, value: unknown): MaskRule {
  if (path.length === 0) throw new MaskRuleError('mask must be non-empty');
  if (!path.startsWith('/')) throw new MaskRuleError('mask must be slash-prefixed');
  const parts = path.slice(1).split('/');
  if (parts[0] !== 'input' && parts[0] !== 'result' && parts[0] !== 'nd_builtin_cache') throw new MaskRuleError(`mask prefix not allowed: ${parts[0]}`);
  for (const p of parts) checkUnescape(p);
  if (op !== 'remove' && op !== 'upsert') throw new MaskRuleError(`mask op is not supported: ${op}`);
  // Go decodes a missing value as nil: the field becomes null.
  return { op, parts: parts.map(pathEscape), value: value === undefined ? null : value };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** newMaskRuleSet: the policy's answer (a set, as an array) → rules, or a MaskRuleError OPA would raise. */
export function parseMaskRuleSet(value: unknown): MaskRule[] {
  if (!Array.isArray(value)) throw new MaskRuleError(`unexpected rule format ${JSON.stringify(value)}`);
  return value.map((raw: unknown) => {
    if (typeof raw === 'string') return newRule(raw, 'remove', undefined);
    if (!isObject(raw)) throw new MaskRuleError(`invalid mask rule format encountered: ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}`);
    if ('op' in raw && (typeof raw.op !== 'string' || raw.op === '')) throw new MaskRuleError(`invalid "op" value: ${JSON.stringify(raw.op)}`);
    if ('path' in raw && (typeof raw.path !== 'string' || raw.path === '')) throw new MaskRuleError(`invalid "path" value: ${JSON.stringify(raw.path)}`);
    return newRule(typeof raw.path === 'string' ? raw.path : '', typeof raw.op === 'string' ? raw.op : '', raw.value);
  });
}

/** strconv.Atoi's accepted form. */
function index(key: string): number | undefined {
  return /^[+-]?\d+$/.test(key) ? Number(key) : undefined;
}

/** removeValue: false when the path does not lead to an existing key or index (nothing erased). */
function removeValue(path: readonly string[], root: unknown): boolean {
  let node = root;
  let parent: unknown;
  let parentKey = '';
  for (const key of path.slice(0, -1)) {
    parent = node;
    parentKey = key;
    if (isObject(node)) {
      if (!Object.hasOwn(node, key)) return false;
      node = node[key];
    } else if (Array.isArray(node)) {
      const i = index(key);
      if (i === undefined || i < 0 || i >= node.length) return false;
      node = node[i];
    } else return false;
  }
  const target = path[path.length - 1]!;
  if (isObject(node)) {
    if (!Object.hasOwn(node, target)) return false;
    delete node[target];
    return true;
  }
  if (!Array.isArray(node)) return false;
  const i = index(target);
  if (i === undefined || i < 0 || i >= node.length) return false;
  const without = [...node.slice(0, i), ...node.slice(i + 1)];
  // The array is replaced in its parent; the top-level document itself cannot be (as OPA).
  if (Array.isArray(parent)) parent[index(parentKey)!] = without;
  else if (isObject(parent)) parent[parentKey] = without;
  else return false;
  return true;
}

/** mkdirp: objects made on the way; false when the path runs through a scalar or past an array's end. */
function upsertValue(path: readonly string[], root: Record<string, unknown>, value: unknown): boolean {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (isObject(node)) {
      if (!Object.hasOwn(node, key)) node[key] = {};
      node = node[key];
    } else if (Array.isArray(node)) {
      const i = index(key);
      if (i === undefined || i < 0) return false;
      node = node[i];
    } else return false;
  }
  const last = path[path.length - 1]!;
  if (isObject(node)) {
    node[last] = value;
    return true;
  }
  if (!Array.isArray(node)) return false;
  const i = index(last);
  if (i === undefined || i < 0 || i >= node.length) return false;
  node[i] = value;
  return true;
}

/** maskRuleSet.Mask: each rule in order on copies of input and result (the objects the request used stay untouched). */
export function applyMaskRules(rules: readonly MaskRule[], entry: DecisionLogEntry): DecisionLogEntry {
  const doc: { input?: unknown; result?: unknown } = { input: entry.input, result: entry.result };
  const copied = new Set<Part>();
  const erased = [...(entry.erased ?? [])];
  const masked = [...(entry.masked ?? [])];
  for (const rule of rules) {
    const part = rule.parts[0] as Part;
    // The sidecar keeps no nd_builtin_cache: such rules have nothing to act on.
    if (part === 'nd_builtin_cache' || doc[part] === undefined) continue;
    if (!copied.has(part)) {
      doc[part] = structuredClone(doc[part]);
      copied.add(part);
    }
    const pointer = `/${rule.parts.join('/')}`;
    const rest = rule.parts.slice(1);
    if (rule.op === 'remove') {
      if (rest.length === 0) doc[part] = undefined;
      else if (!removeValue(rest, doc[part])) continue;
      erased.push(pointer);
    } else {
      if (rest.length === 0) doc[part] = rule.value;
      else if (!isObject(doc[part]) || !upsertValue(rest, doc[part], rule.value)) continue;
      masked.push(pointer);
    }
  }
  if (erased.length === (entry.erased?.length ?? 0) && masked.length === (entry.masked?.length ?? 0)) return entry;
  return {
    ...entry,
    input: doc.input,
    result: doc.result,
    ...(erased.length ? { erased } : {}),
    ...(masked.length ? { masked } : {}),
  };
}

/** Applied to an entry when it leaves the request thread; undefined drops it. */
export type DeferredMask = (entry: DecisionLogEntry) => DecisionLogEntry | undefined;

export interface MaskPolicyOptions {
  /** `decision_logs.mask_decision`: `/system/log/mask` by default. */
  readonly path: string;
  readonly timeoutMs: number;
  readonly maxSteps?: number;
  /** Told why an entry was dropped (the policy failed, or answered rules OPA refuses). */
  readonly onError: (err: unknown) => void;
}

/** The event as the mask policy sees it: the entry without its metrics and error (OPA builds the input before adding them). */
function policyInput(entry: DecisionLogEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) if (v !== undefined && k !== 'metrics' && k !== 'error') out[k] = v;
  return out;
}

/**
 * The mask step for decisions of one serving revision, or undefined when that revision has no
 * mask policy (nothing to evaluate). The evaluation itself is deferred to when the entry leaves
 * the request thread, after the response: masking never delays a decision.
 */
export function maskPolicy(options: MaskPolicyOptions): (snapshot: PolicySnapshot) => DeferredMask | undefined {
  const path = options.path.split('/').filter((s) => s !== '');
  const defined = new WeakMap<object, boolean>();
  const hasPolicy = (snapshot: PolicySnapshot): boolean => {
    let known = defined.get(snapshot.set);
    if (known === undefined) {
      known = snapshot.set.rulePaths().some((r) => path.every((s, i) => r[i] === s));
      defined.set(snapshot.set, known);
    }
    if (known) return true;
    let node: unknown = snapshot.data;
    for (const s of path) node = isObject(node) ? node[s] : undefined;
    return node !== undefined;
  };
  return (snapshot) => {
    if (!hasPolicy(snapshot)) return undefined;
    return (entry) => {
      try {
        const outcome = snapshot.set.evaluate(path, {
          input: policyInput(entry),
          data: snapshot.data,
          timeoutMs: options.timeoutMs,
          ...(options.maxSteps ? { maxSteps: options.maxSteps } : {}),
        });
        return outcome.defined ? applyMaskRules(parseMaskRuleSet(outcome.result), entry) : entry;
      } catch (err) {
        options.onError(err);
        return undefined;
      }
    };
  };
}
