/**
 * rego.parse_module: a module's AST in OPA's JSON shape (`{"package": {"path": [...]},
 * "imports": [...], "rules": [...]}`, terms as `{"type": ..., "value": ...}`), built from
 * the engine's parser. Covers package, imports, rule heads and bodies' terms; OPA's
 * annotations and location fields are not produced.
 */
import type { Body, Module, Term } from '../ast';
import { RegoError } from '../errors';
import { parseModule } from '../parser';
import { BuiltinError } from './registry';
import { fromJSON, toJSON, typeName, type JSONValue, type Value } from '../value';

type J = JSONValue;

function term(t: Term): J {
  switch (t.kind) {
    case 'scalar': {
      const v: Value = t.value;
      return { type: typeName(v), value: toJSON(v) };
    }
    case 'var':
      return { type: 'var', value: t.name };
    case 'ref':
      return { type: 'ref', value: [term(t.head), ...t.path.map(term)] };
    case 'array':
      return { type: 'array', value: t.items.map(term) };
    case 'set':
      return { type: 'set', value: t.items.map(term) };
    case 'object':
      return { type: 'object', value: t.entries.map(([k, v]) => [term(k), term(v)]) };
    case 'call':
      return { type: 'call', value: [term(t.op), ...t.args.map(term)] };
    case 'arraycomp':
      return { type: 'arraycomprehension', value: { term: term(t.head), body: body(t.body) } };
    case 'setcomp':
      return { type: 'setcomprehension', value: { term: term(t.head), body: body(t.body) } };
    case 'objectcomp':
      return { type: 'objectcomprehension', value: { key: term(t.key), value: term(t.value), body: body(t.body) } };
    case 'template':
      return { type: 'templatestring', value: t.parts.map((p) => (typeof p === 'string' ? p : term(p))) };
  }
}

function body(b: Body): J {
  return b.map((e, index): J => {
    const out: { [k: string]: J } = { index };
    if (e.kind === 'term') out.terms = e.term.kind === 'call' ? [term(e.term.op), ...e.term.args.map(term)] : term(e.term);
    else if (e.kind === 'some') out.terms = { type: 'some', value: e.vars.map((v) => ({ type: 'var', value: v })) };
    else if (e.kind === 'somein') out.terms = { type: 'somein', value: [e.key ? term(e.key) : null, term(e.value), term(e.domain)] };
    else out.terms = { type: 'every', value: { key: e.key ? term(e.key) : null, value: term(e.value), domain: term(e.domain), body: body(e.body) } };
    if (e.negated) out.negated = true;
    if (e.with.length > 0) out.with = e.with.map((w) => ({ target: term(w.target), value: term(w.value) }));
    return out;
  });
}

function moduleJSON(m: Module): J {
  return {
    package: { path: [{ type: 'var', value: 'data' }, ...m.pkg.map((p) => ({ type: 'string', value: p }))] },
    imports: m.imports.map((i) => ({ path: term(i.path), ...(i.alias ? { alias: i.alias } : {}) })),
    rules: m.rules.map((r) => ({
      ...(r.isDefault ? { default: true } : {}),
      head: {
        ref: r.ref.map(term),
        ...(r.args ? { args: r.args.map(term) } : {}),
        ...(r.contains ? { key: term(r.contains) } : {}),
        ...(r.value ? { value: term(r.value) } : {}),
        ...(r.assign ? { assign: true } : {}),
      },
      body: body(r.body),
    })),
  };
}

/** Parses `source` as module `file`; parse errors become built-in errors carrying OPA's text. */
export function parseModuleJSON(file: string, source: string): Value {
  try {
    return fromJSON(moduleJSON(parseModule(source, file)));
  } catch (e) {
    if (e instanceof RegoError) throw new BuiltinError(String(e));
    throw e;
  }
}
