import { forEachChild, type Body, type Expr, type Term } from '../ast';

/** Vars of a term split by how evaluation treats them (see safety.ts). */
export interface VarUse {
  /** Vars that unification can bind (bare vars, array/object elements). */
  readonly pattern: Set<string>;
  /** Vars inside ref brackets: iterating the ref binds them. */
  readonly refVars: Set<string>;
  /** Vars that must already be bound (call operands, object keys, set elements...). */
  readonly inputs: Set<string>;
  /** Vars used inside comprehensions: closures if the enclosing body also has them. */
  readonly closures: Set<string>;
}

export function emptyUse(): VarUse {
  return { pattern: new Set(), refVars: new Set(), inputs: new Set(), closures: new Set() };
}

export const isWildcard = (name: string): boolean => name.startsWith('$');
export const isRoot = (name: string): boolean => name === 'data' || name === 'input';

/** Collects var uses of `t`; `pattern` says whether bare vars here may be bound by unification. */
export function collectTerm(t: Term, use: VarUse, pattern: boolean): VarUse {
  switch (t.kind) {
    case 'scalar':
      break;
    case 'var':
      if (isRoot(t.name)) break;
      (pattern ? use.pattern : use.inputs).add(t.name);
      break;
    case 'ref':
      if (t.head.kind === 'var') {
        if (!isRoot(t.head.name)) use.inputs.add(t.head.name);
      } else collectTerm(t.head, use, false);
      for (const seg of t.path) collectRefSeg(seg, use);
      break;
    case 'array':
      for (const x of t.items) collectTerm(x, use, pattern);
      break;
    case 'object':
      for (const [k, v] of t.entries) {
        collectTerm(k, use, false);
        collectTerm(v, use, pattern);
      }
      break;
    case 'set':
      for (const x of t.items) collectTerm(x, use, false);
      break;
    case 'call':
      for (const a of t.args) collectTerm(a, use, false);
      break;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') collectTerm(p, use, false);
      break;
    case 'arraycomp':
    case 'setcomp':
      allVarsOfTerm(t.head, use.closures);
      allVarsOfBody(t.body, use.closures);
      break;
    case 'objectcomp':
      allVarsOfTerm(t.key, use.closures);
      allVarsOfTerm(t.value, use.closures);
      allVarsOfBody(t.body, use.closures);
      break;
  }
  return use;
}

function collectRefSeg(seg: Term, use: VarUse): void {
  if (seg.kind === 'var') {
    use.refVars.add(seg.name);
    return;
  }
  const inner = collectTerm(seg, emptyUse(), true);
  for (const v of inner.pattern) use.refVars.add(v);
  for (const v of inner.refVars) use.refVars.add(v);
  for (const v of inner.inputs) use.inputs.add(v);
  for (const v of inner.closures) use.closures.add(v);
}

/** Every var name occurring in a term (any position). */
export function allVarsOfTerm(t: Term, out: Set<string>): Set<string> {
  if (t.kind === 'var') {
    if (!isRoot(t.name)) out.add(t.name);
  } else {
    forEachChild(
      t,
      (x) => allVarsOfTerm(x, out),
      (b) => allVarsOfBody(b, out),
    );
  }
  return out;
}

export function allVarsOfExpr(e: Expr, out: Set<string>): Set<string> {
  switch (e.kind) {
    case 'term':
      allVarsOfTerm(e.term, out);
      break;
    case 'some':
      break;
    case 'somein':
    case 'every':
      if (e.key) allVarsOfTerm(e.key, out);
      allVarsOfTerm(e.value, out);
      allVarsOfTerm(e.domain, out);
      if (e.kind === 'every') allVarsOfBody(e.body, out);
      break;
  }
  for (const w of e.with) allVarsOfTerm(w.value, out);
  return out;
}

export function allVarsOfBody(b: Body, out: Set<string>): Set<string> {
  for (const e of b) allVarsOfExpr(e, out);
  return out;
}
