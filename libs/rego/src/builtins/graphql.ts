/**
 * OPA v1/topdown/graphql.go: graphql.parse_query, parse_schema, parse, parse_and_verify,
 * is_valid and schema_is_valid. ASTs are answered in gqlparser's JSON field names with
 * null and empty members pruned, as OPA does; schemas and queries may also be given as
 * such AST objects.
 */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { GraphQLError } from './graphql/lexer';
import { parseQueryText, parseSchemaText, type Json } from './graphql/parser';
import { loadSchema, validateQuery } from './graphql/validate';
import { def, typeErr } from './utils';
import { RegoObject, fromJSON, toJSON, type Value } from '../value';

type Obj = { [k: string]: Json };

/**
 * OPA's "<message> in GraphQL string at location L:C". Parse errors keep gqlparser's text as is;
 * validation errors lose their final period (OPA trims the ".\n" of gqlparser's error list).
 */
function located(e: unknown, validation = false): BuiltinError {
  if (e instanceof GraphQLError) {
    const msg = validation ? e.message.replace(/\.$/, '') : e.message;
    return new BuiltinError(`${msg} in GraphQL string at location ${e.line}:${e.col}`);
  }
  return e instanceof BuiltinError ? e : new BuiltinError(String((e as Error).message ?? e));
}

/** OPA's pruneIrrelevantGraphQLASTNodes: drop nulls, empty lists/objects and Position. */
function prune(v: Json): Json {
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const x of v) {
      if (x === null) continue;
      const p = prune(x);
      if ((Array.isArray(p) && p.length === 0) || (isObj(p) && Object.keys(p).length === 0)) continue;
      out.push(p);
    }
    return out;
  }
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Position' || x === null) continue;
      const p = prune(x);
      if ((Array.isArray(p) && p.length === 0) || (isObj(p) && Object.keys(p).length === 0)) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const answer = (doc: Obj): Value => fromJSON(prune(doc));

function schemaDoc(v: Value, pos: number): Obj {
  if (typeof v === 'string') {
    try {
      return parseSchemaText(v);
    } catch (e) {
      throw located(e);
    }
  }
  if (v instanceof RegoObject) return toJSON(v) as Obj;
  throw typeErr(pos, v, 'string', 'object');
}

function queryDoc(v: Value, pos: number): Obj {
  if (typeof v === 'string') {
    try {
      return parseQueryText(v);
    } catch (e) {
      throw located(e);
    }
  }
  if (v instanceof RegoObject) return toJSON(v) as Obj;
  throw typeErr(pos, v, 'string', 'object');
}

function check(query: Obj, schema: Obj): void {
  let s;
  try {
    s = loadSchema(schema);
  } catch (e) {
    throw new BuiltinError(`Error in gqlparser SchemaDocument to Schema conversion: ${(e as Error).message}`);
  }
  try {
    validateQuery(s, query);
  } catch (e) {
    throw located(e, true);
  }
}

const quietly = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

export function register(r: BuiltinRegistry): void {
  def(r, 'graphql.parse_query', 1, ([q]) => {
    if (typeof q !== 'string') throw typeErr(1, q!, 'string');
    return answer(queryDoc(q, 1));
  });
  def(r, 'graphql.parse_schema', 1, ([s]) => {
    if (typeof s !== 'string') throw typeErr(1, s!, 'string');
    return answer(schemaDoc(s, 1));
  });
  def(r, 'graphql.parse', 2, ([q, s]) => {
    const query = queryDoc(q!, 1);
    const schema = schemaDoc(s!, 2);
    check(query, schema);
    return [answer(query), answer(schema)];
  });
  def(r, 'graphql.parse_and_verify', 2, ([q, s]) => {
    try {
      const query = queryDoc(q!, 1);
      const schema = schemaDoc(s!, 2);
      check(query, schema);
      return [true, answer(query), answer(schema)];
    } catch {
      return [false, new RegoObject(), new RegoObject()];
    }
  });
  def(r, 'graphql.is_valid', 2, ([q, s]) => quietly(() => check(queryDoc(q!, 1), schemaDoc(s!, 2))));
  def(r, 'graphql.schema_is_valid', 1, ([s]) => quietly(() => loadSchema(schemaDoc(s!, 1))));
}
