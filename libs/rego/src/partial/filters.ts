import type { Expr, Term as T } from '../ast';
import { RegoError, type RegoErrorDetail } from '../errors';
import { RegoSet, toJSON, type Value } from '../value';
import type { Residual } from './evaluate';
import { callName, exprText, termText } from './print';

/** EOPA's data-filtering targets (`options.targetDialects`, and the Accept header's media types). */
export type FilterTarget = 'ucast+all' | 'ucast+minimal' | 'ucast+prisma' | 'ucast+linq' | 'sql+postgresql' | 'sql+mysql' | 'sql+sqlserver' | 'sql+sqlite';
export const FILTER_TARGETS: readonly FilterTarget[] = ['ucast+all', 'ucast+minimal', 'ucast+prisma', 'ucast+linq', 'sql+postgresql', 'sql+mysql', 'sql+sqlserver', 'sql+sqlite'];

export type UcastNode =
  | { readonly type: 'field'; readonly operator: string; readonly field: string; readonly value: unknown }
  | { readonly type: 'compound'; readonly operator: 'and' | 'or' | 'not'; readonly value: readonly UcastNode[] };

/** `$self` renames a table, other keys its columns (EOPA's targetSQLTableMappings for one dialect). */
export type TableMappings = Readonly<Record<string, Readonly<Record<string, string>>>>;

const COMPARE: Readonly<Record<string, string>> = { eq: 'eq', equal: 'eq', neq: 'ne', lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte' };
const FLIPPED: Readonly<Record<string, string>> = { lt: 'gt', lte: 'gte', gt: 'lt', gte: 'lte' };
const STRINGS = new Set(['startswith', 'endswith', 'contains']);

interface Features {
  readonly not: boolean;
  readonly in: boolean;
  readonly strings: boolean;
}
function features(t: FilterTarget): Features {
  if (t === 'ucast+minimal') return { not: false, in: false, strings: false };
  return { not: true, in: true, strings: true };
}

class FragmentError extends Error {
  constructor(
    readonly detail: RegoErrorDetail,
  ) {
    super(detail.message);
  }
}

function fail(e: Expr, message: string): never {
  throw new FragmentError({ code: 'pe_fragment_error', message, location: e.loc.row ? e.loc : undefined });
}

/**
 * The residual as one UCAST condition (OPA/EOPA: queries → `or`, expressions → `and`).
 * undefined: never true (EOPA answers no result); null: always true (no condition).
 * Expressions outside the target's subset raise pe_fragment_error, all of them at once.
 */
export function residualToUcast(r: Residual, target: FilterTarget): UcastNode | null | undefined {
  if (!r.queries.length) return undefined;
  if (r.queries.some((q) => q.length === 0)) return null;
  const f = features(target);
  const errors: RegoErrorDetail[] = [];
  const bodies: UcastNode[] = [];
  for (const q of r.queries) {
    const nodes: UcastNode[] = [];
    for (const e of q) {
      try {
        nodes.push(exprNode(e, f, r));
      } catch (err) {
        if (!(err instanceof FragmentError)) throw err;
        errors.push(err.detail);
      }
    }
    bodies.push(nodes.length === 1 ? nodes[0]! : { type: 'compound', operator: 'and', value: nodes });
  }
  if (errors.length) throw new RegoError('pe_fragment_error', errors.length === 1 ? errors[0]!.message : `${errors.length} errors occurred`, { location: errors[0]!.location, errors });
  return bodies.length === 1 ? bodies[0]! : { type: 'compound', operator: 'or', value: bodies };
}

function exprNode(e: Expr, f: Features, r: Residual): UcastNode {
  if (e.kind === 'every') fail(e, '"every" not permitted');
  if (e.with.length) fail(e, '"with" not permitted');
  if (e.negated && !f.not) fail(e, '"not" not permitted');
  if (e.kind !== 'term') fail(e, `invalid statement "${exprText(e)}"`);
  const t = e.term;
  if (t.kind !== 'call') {
    const path = t.kind === 'ref' && t.head.kind === 'var' && t.head.name === 'data' ? t.path.map((p) => (p.kind === 'scalar' ? String(p.value) : '?')) : undefined;
    if (path && path[0] === 'partial') {
      const rules = r.support.filter((s) => s.path.join('.') === path.join('.'));
      const name = `data.${path.slice(1).join('.')}`;
      if (rules.some((s) => s.isDefault)) fail(e, `use of default rule in ${name}`);
      if (rules.some((s) => s.kind === 'multi')) fail(e, `use of multi-value rule in ${name}`);
      if (path[1]?.startsWith('__not')) fail(e, `"not" over more than one expression not permitted`);
    }
    fail(e, `invalid statement "${exprText(e)}"`);
  }
  const name = callName(t);
  const node = callNode(e, t, name, f);
  return e.negated ? { type: 'compound', operator: 'not', value: [node] } : node;
}

function callNode(e: Expr, t: Extract<T, { kind: 'call' }>, name: string, f: Features): UcastNode {
  let op = COMPARE[name];
  if (name === 'internal.member_2' || name === 'internal.member_3') {
    if (!f.in || name === 'internal.member_3') fail(e, 'invalid use of "... in ..."');
    op = 'in';
  } else if (STRINGS.has(name)) {
    if (!f.strings) fail(e, `invalid builtin ${name}`);
    op = name;
  } else if (!op) {
    if (t.target?.kind === 'function') fail(e, `invalid data reference "${termText(t)}"`);
    fail(e, `invalid builtin ${name}`);
  }
  if (t.args.length !== 2) fail(e, `${name}: expected 2 operands`);
  for (const a of t.args) if (a.kind === 'call') fail(e, `${name}: nested call operand: ${termText(a)}`);
  const [a, b] = t.args as [T, T];
  let field: T;
  let other: T;
  if (op === 'in') {
    [field, other] = [a, b];
    if (other.kind !== 'scalar' || !(Array.isArray(other.value) || other.value instanceof RegoSet)) fail(e, 'invalid use of "... in ...": the collection must be known');
  } else if (STRINGS.has(op)) {
    [field, other] = [a, b];
    if (b.kind !== 'scalar') fail(e, `rhs of ${op} must be scalar`);
  } else if (a.kind === 'scalar') {
    [field, other] = [b, a];
    op = FLIPPED[op] ?? op;
  } else [field, other] = [a, b];
  if (other.kind !== 'scalar') fail(e, 'both rhs and lhs non-scalar/non-ground');
  if (op !== 'in' && typeof other.value === 'object' && other.value !== null) fail(e, 'both rhs and lhs non-scalar/non-ground');
  return { type: 'field', operator: op, field: fieldName(e, field), value: toJSON(other.value as Value) };
}

/** `input.fruits.name` → `fruits.name`: the ref without its root. */
function fieldName(e: Expr, t: T): string {
  if (t.kind !== 'ref' || t.head.kind !== 'var') fail(e, `invalid field reference "${termText(t)}"`);
  const parts = t.path.map((p) => (p.kind === 'scalar' && typeof p.value === 'string' ? p.value : undefined));
  if (parts.some((p) => p === undefined) || parts.length === 0) fail(e, `invalid field reference "${termText(t)}": only constant keys (table.column) translate`);
  return parts.join('.');
}

// ---- SQL ----------------------------------------------------------------------------------
export type SqlDialect = 'postgresql' | 'mysql' | 'sqlserver' | 'sqlite';

const SQL_OPS: Readonly<Record<string, string>> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** A UCAST condition as a SQL WHERE clause ('' when unconditional). */
export function ucastToSql(node: UcastNode | null, dialect: SqlDialect, mappings: TableMappings = {}): string {
  return node === null ? '' : `WHERE ${sqlCond(node, dialect, mappings, true)}`;
}

function sqlCond(n: UcastNode, d: SqlDialect, m: TableMappings, top: boolean): string {
  if (n.type === 'compound') {
    if (n.operator === 'not') return `NOT (${sqlCond(n.value[0]!, d, m, true)})`;
    const s = n.value.map((c) => sqlCond(c, d, m, false)).join(n.operator === 'and' ? ' AND ' : ' OR ');
    return top ? s : `(${s})`;
  }
  const col = column(n.field, d, m);
  const v = n.value;
  switch (n.operator) {
    case 'in':
      return `${col} IN (${(v as unknown[]).map((x) => literal(x, d)).join(', ')})`;
    case 'startswith':
      return like(col, `${escapeLike(String(v))}%`, d);
    case 'endswith':
      return like(col, `%${escapeLike(String(v))}`, d);
    case 'contains':
      return like(col, `%${escapeLike(String(v))}%`, d);
    default:
      if (v === null && (n.operator === 'eq' || n.operator === 'ne')) return `${col} IS ${n.operator === 'eq' ? '' : 'NOT '}NULL`;
      return `${col} ${SQL_OPS[n.operator]} ${literal(v, d)}`;
  }
}

function like(col: string, pattern: string, d: SqlDialect): string {
  // Backslash escapes LIKE wildcards by default in PostgreSQL and MySQL only.
  return `${col} LIKE ${literal(pattern, d)}${d === 'sqlserver' || d === 'sqlite' ? " ESCAPE '\\'" : ''}`;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function literal(v: unknown, d: SqlDialect): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return d === 'sqlserver' || d === 'sqlite' ? (v ? '1' : '0') : v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const s = String(v);
  switch (d) {
    case 'postgresql':
      return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'mysql':
      return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'sqlserver':
      return `N'${s.replace(/'/g, "''")}'`;
    case 'sqlite':
      return `'${s.replace(/'/g, "''")}'`;
  }
}

const BARE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `table.column` after the table mappings, each part quoted unless it is a bare identifier. */
function column(field: string, d: SqlDialect, m: TableMappings): string {
  const dot = field.indexOf('.');
  const table = dot < 0 ? field : field.slice(0, dot);
  const col = dot < 0 ? undefined : field.slice(dot + 1);
  const map = m[table];
  const parts = [map?.$self ?? table, ...(col === undefined ? [] : [map?.[col] ?? col])];
  return parts.map((p) => (BARE.test(p) ? p : quoteIdent(p, d))).join('.');
}

function quoteIdent(p: string, d: SqlDialect): string {
  if (d === 'mysql') return `\`${p.replace(/`/g, '``')}\``;
  if (d === 'sqlserver') return `[${p.replace(/]/g, ']]')}]`;
  return `"${p.replace(/"/g, '""')}"`;
}
