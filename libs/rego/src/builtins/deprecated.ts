/**
 * OPA's deprecated built-ins (v1/ast/builtins.go `Deprecated: true`): removed from Rego v1, kept
 * for v0 modules. Registered with `deprecated`, which the compiler hides from v1 modules (they
 * get "undefined function", as from OPA 1.x).
 */
import type { BuiltinRegistry } from './registry';
import { def, setArg, typeErr } from './utils';
import { RegoObject, RegoSet, equal, type Value } from '../value';

const deprecated = { deprecated: true } as const;

export function register(r: BuiltinRegistry): void {
  def(r, 'any', 1, ([x]) => {
    const items = setOrArray(x!);
    return items.some((v) => equal(v, true));
  }, deprecated);
  def(r, 'all', 1, ([x]) => {
    const items = setOrArray(x!);
    return items.every((v) => equal(v, true));
  }, deprecated);
  def(r, 'set_diff', 2, (args) => setArg(args, 0).diff(setArg(args, 1)), deprecated);
  def(r, 'cast_array', 1, ([x]) => {
    if (Array.isArray(x)) return x;
    if (x instanceof RegoSet) return x.sorted();
    throw typeErr(1, x!, 'array', 'set');
  }, deprecated);
  def(r, 'cast_set', 1, ([x]) => {
    if (x instanceof RegoSet) return x;
    if (Array.isArray(x)) return new RegoSet(x as readonly Value[]);
    throw typeErr(1, x!, 'array', 'set');
  }, deprecated);
  def(r, 'cast_string', 1, ([x]) => {
    if (typeof x !== 'string') throw typeErr(1, x!, 'string');
    return x;
  }, deprecated);
  def(r, 'cast_boolean', 1, ([x]) => {
    if (typeof x !== 'boolean') throw typeErr(1, x!, 'boolean');
    return x;
  }, deprecated);
  def(r, 'cast_null', 1, ([x]) => {
    if (x !== null) throw typeErr(1, x!, 'null');
    return x;
  }, deprecated);
  def(r, 'cast_object', 1, ([x]) => {
    if (!(x instanceof RegoObject)) throw typeErr(1, x!, 'object');
    return x;
  }, deprecated);
  // Old names of built-ins that v1 keeps under new ones: the same function, errors included.
  alias(r, 're_match', 'regex.match');
  alias(r, 'net.cidr_overlap', 'net.cidr_contains');
}

function setOrArray(x: Value): readonly Value[] {
  if (x instanceof RegoSet) return x.sorted();
  if (Array.isArray(x)) return x as readonly Value[];
  throw typeErr(1, x, 'set', 'array');
}

function alias(r: BuiltinRegistry, name: string, target: string): void {
  const t = r.get(target);
  if (!t) throw new TypeError(`${name}: built-in ${target} must be registered first`);
  r.register({ ...t, name, deprecated: true });
}
