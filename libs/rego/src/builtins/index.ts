/**
 * The built-in functions, one module per OPA group. `createBuiltinRegistry()` is the single
 * place where groups are registered.
 *
 * For the evaluator:
 *  - call through `callBuiltin(def, args, ctx)`: it maps failures to OPA's codes and message
 *    shapes (`eval_type_error` for bad operands, `eval_builtin_error` otherwise, both
 *    prefixed with the built-in's name); add the call site with `RegoError.withLocation`.
 *    `undefined` from a built-in means the call is undefined.
 *  - `arity` counts input operands; one more argument at a call site is the output.
 *    `variadic` (print) takes any number and has no output.
 *  - relations (`walk`) provide `iter(args, ctx, hints)`; `hints.pathUnused` and
 *    `hints.pathFilter` (from the output pattern) only save work.
 *  - `print` takes each operand as the set of its values (empty set = undefined), as OPA's
 *    compiler rewrites them; `formatPrintArgs` / `printValue` render that text.
 *  - one `BuiltinContext` per query (`createBuiltinContext`): stable time.now_ns, caches
 *    for rand/uuid/http.send, env for opa.runtime, and the `parseModule` hook that
 *    rego.parse_module needs from the engine.
 *  - http.send and net.lookup_ip_addr run synchronously in a short-lived child process
 *    (built-ins are synchronous here); they block the caller for the request's duration.
 */
import { createEmptyRegistry, type BuiltinRegistry } from './registry';
import { register as aggregates } from './aggregates';
import { register as arithmetic } from './arithmetic';
import { register as arrays } from './arrays';
import { register as aws } from './aws';
import { register as bits } from './bits';
import { register as casts } from './casts';
import { register as comparison } from './comparison';
import { register as crypto } from './crypto';
import { register as deprecated } from './deprecated';
import { register as encoding } from './encoding';
import { register as glob } from './glob';
import { register as graph } from './graph';
import { register as graphql } from './graphql';
import { register as http } from './http';
import { register as json } from './json';
import { register as jsonschema } from './jsonschema';
import { register as jwt } from './jwt';
import { register as net } from './net';
import { register as numbers } from './numbers';
import { register as objects } from './objects';
import { register as regex } from './regex';
import { register as runtime } from './runtime';
import { register as semver } from './semver';
import { register as sets } from './sets';
import { register as strings } from './strings';
import { register as time } from './time';
import { register as types } from './types';
import { register as units } from './units';
import { register as uuid } from './uuid';
import { register as walk } from './walk';
import { register as x509 } from './x509';

const GROUPS: ReadonlyArray<(r: BuiltinRegistry) => void> = [
  aggregates,
  arithmetic,
  arrays,
  aws,
  bits,
  casts,
  comparison,
  crypto,
  encoding,
  glob,
  graph,
  graphql,
  http,
  json,
  jsonschema,
  jwt,
  net,
  numbers,
  objects,
  regex,
  runtime,
  semver,
  sets,
  strings,
  time,
  types,
  units,
  uuid,
  walk,
  x509,
  // Last: some are old names of built-ins above.
  deprecated,
];

/** A registry holding every built-in. Build it once and share it: it is read-only. */
export function createBuiltinRegistry(): BuiltinRegistry {
  const r = createEmptyRegistry();
  for (const g of GROUPS) g(r);
  return r;
}

export {
  callBuiltin,
  toRegoError,
  createBuiltinContext,
  createEmptyRegistry,
  OperandError,
  BuiltinError,
} from './registry';
export type { BuiltinContext, BuiltinDef, BuiltinFn, BuiltinRegistry, RelationHints } from './registry';
export { walkValue } from './walk';
export { formatPrintArgs, printValue } from './runtime';
export { termString } from './format';
