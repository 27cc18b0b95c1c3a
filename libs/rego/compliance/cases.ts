/** Running OPA compliance cases (the fields of OPA's v1/test/cases TestCase) against the engine. */
import { compileModules, RegoError } from '../src/index';
import { RegoObject, RegoSet, compare, equal, fromJSON, type Value } from '../src/value';

export interface ComplianceCase {
  readonly category: string;
  readonly note: string;
  readonly modules?: readonly string[];
  readonly query: string;
  readonly data?: unknown;
  readonly input?: unknown;
  readonly input_term?: string;
  readonly want_result?: ReadonlyArray<Record<string, unknown>>;
  readonly want_defined?: boolean;
  readonly want_error?: string;
  readonly want_error_code?: string;
  readonly sort_bindings?: boolean;
  readonly strict_error?: boolean;
  readonly env?: Record<string, string>;
}

export interface CaseOutcome {
  readonly id: string;
  readonly category: string;
  readonly passed: boolean;
  readonly reason?: string;
}

export function caseId(c: ComplianceCase): string {
  return `${c.category}/${c.note}`;
}

const MAX_STEPS = 2_000_000;

/**
 * opa.runtime() as OPA's test runner sets it up: no runtime term at all (the built-in then
 * answers {}), unless the case gives an environment.
 */
function runtimeOf(c: ComplianceCase): Record<string, unknown> {
  return c.env ? { env: c.env } : {};
}

/** Runs one case the way OPA's test runner does and says whether the expectation holds. */
export function runCase(c: ComplianceCase): CaseOutcome {
  const id = caseId(c);
  const done = (passed: boolean, reason?: string): CaseOutcome => ({ id, category: c.category, passed, reason });
  const wantsError = c.want_error !== undefined || c.want_error_code !== undefined;
  let rows: Array<Record<string, unknown>>;
  try {
    const ps = compileModules(
      (c.modules ?? []).map((source, i) => ({ file: `test-${i}.rego`, source })),
      { strictBuiltinErrors: c.strict_error === true },
    );
    rows = ps.query(c.query, { data: c.data ?? {}, input: c.input, inputTerm: c.input_term, maxSteps: MAX_STEPS, timeoutMs: 5_000, env: c.env ?? {}, runtime: runtimeOf(c) });
  } catch (e) {
    if (!(e instanceof RegoError)) return done(false, `crash: ${e instanceof Error ? e.message : String(e)}`.slice(0, 200));
    if (!wantsError) return done(false, `unexpected ${e.code}: ${e.message}`.slice(0, 200));
    if (c.want_error_code && e.code !== c.want_error_code) return done(false, `want ${c.want_error_code}, got ${e.code}: ${e.message}`.slice(0, 200));
    // OPA's topdown Error.Error(): "<file>:<row>: <code>: <message>" when it has a location.
    const located = (d: { code: string; message: string; location?: { file?: string; row: number } }): string[] =>
      d.location?.file ? [`${d.location.file}:${d.location.row}: ${d.code}: ${d.message}`] : [];
    const texts = [e.message, `${e.code}: ${e.message}`, ...located(e), ...e.errors.flatMap((d) => [`${d.code}: ${d.message}`, ...located(d)])];
    if (c.want_error && !texts.some((t) => t.includes(c.want_error!))) {
      return done(false, `error message mismatch: ${e.message}`.slice(0, 200));
    }
    return done(true);
  }
  if (wantsError) return done(false, `want error ${c.want_error_code ?? ''} ${c.want_error ?? ''}, got ${rows.length} results`);
  if (c.want_defined !== undefined) {
    return rows.length > 0 === c.want_defined ? done(true) : done(false, `want defined=${c.want_defined}`);
  }
  if (c.want_result !== undefined) {
    const want = resultSet(c.want_result, c.sort_bindings === true);
    const got = resultSet(rows, c.sort_bindings === true);
    if (equal(want, got)) return done(true);
    return done(false, `result mismatch: got ${JSON.stringify(rows, bigReplacer).slice(0, 150)}`);
  }
  return done(true);
}

function bigReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** OPA compares result sets: a set of binding objects, arrays sorted when bindings were sets. */
function resultSet(rows: ReadonlyArray<Record<string, unknown>>, sortBindings: boolean): RegoSet {
  const s = new RegoSet();
  for (const r of rows) {
    const o = new RegoObject();
    for (const [k, v] of Object.entries(r)) {
      let val: Value = fromJSON(v);
      if (sortBindings && Array.isArray(val)) val = [...(val as readonly Value[])].sort(compare);
      o.set(k, val);
    }
    s.add(o);
  }
  return s;
}
