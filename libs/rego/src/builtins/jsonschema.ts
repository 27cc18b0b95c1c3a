/**
 * OPA v1/topdown/jsonschema.go: json.verify_schema and json.match_schema. OPA uses
 * xeipuuv/gojsonschema; this validator covers the common keywords (type, properties,
 * required, additionalProperties, items, enum, const, numeric and length bounds, pattern,
 * allOf/anyOf/oneOf/not, local $ref) and reports errors in gojsonschema's words.
 */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { regexTest } from './regex-engine';
import { termString } from './format';
import { def, typeErr } from './utils';
import {
  BigNum,
  RegoObject,
  compare,
  equal,
  numberToString,
  parseJSON,
  toDouble,
  type Value,
} from '../value';

const TYPES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

interface SchemaError {
  readonly field: string;
  readonly type: string;
  readonly desc: string;
}

function operand(v: Value, pos: number): Value {
  if (typeof v === 'string') {
    try {
      return parseJSON(v);
    } catch (e) {
      throw new BuiltinError(`operand ${pos}: ${(e as Error).message}`);
    }
  }
  if (v instanceof RegoObject || typeof v === 'boolean') return v;
  throw typeErr(pos, v, 'string', 'object', 'boolean');
}

/** Schema checks gojsonschema performs when loading (the ones policies trip over). */
function checkSchema(s: Value): void {
  if (!(s instanceof RegoObject)) return;
  const t = s.get('type');
  const types = Array.isArray(t) ? (t as readonly Value[]) : t === undefined ? [] : [t];
  for (const x of types) {
    if (typeof x !== 'string' || !TYPES.includes(x)) {
      throw new BuiltinError(`has a primitive type that is NOT VALID -- given: /${typeof x === 'string' ? x : termString(x)}/ Expected valid values are:[${TYPES.join(' ')}]`);
    }
  }
  for (const [k, v] of s.entries()) {
    if (k === 'properties' || k === 'definitions' || k === 'patternProperties') {
      if (v instanceof RegoObject) for (const sub of v.values()) checkSchema(sub);
    } else if (k === 'items' || k === 'not' || k === 'additionalProperties' || k === 'additionalItems') {
      if (Array.isArray(v)) (v as readonly Value[]).forEach(checkSchema);
      else checkSchema(v);
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      if (Array.isArray(v)) (v as readonly Value[]).forEach(checkSchema);
    }
  }
}

function typeOf(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (v instanceof BigNum) return 'integer';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function num(v: Value | undefined): number | undefined {
  return typeof v === 'number' || v instanceof BigNum ? toDouble(v) : undefined;
}

const fieldName = (path: string[]): string => (path.length === 0 ? '(root)' : path.join('.'));

function validate(root: Value, schema: Value, doc: Value, path: string[], errs: SchemaError[]): void {
  if (schema === true || !(schema instanceof RegoObject)) return;
  const add = (type: string, desc: string, at = path): void => {
    errs.push({ field: fieldName(at), type, desc });
  };
  const ref = schema.get('$ref');
  if (typeof ref === 'string' && ref.startsWith('#')) {
    let target: Value | undefined = root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      target = target instanceof RegoObject ? target.get(part.replace(/~1/g, '/').replace(/~0/g, '~')) : undefined;
    }
    if (target !== undefined) validate(root, target, doc, path, errs);
    return;
  }
  const t = schema.get('type');
  if (t !== undefined) {
    const allowed = (Array.isArray(t) ? (t as readonly Value[]) : [t]) as string[];
    const given = typeOf(doc);
    const ok = allowed.includes(given) || (given === 'integer' && allowed.includes('number'));
    if (!ok) {
      add('invalid_type', `Invalid type. Expected: ${allowed.join('/')}, given: ${given}`);
      return;
    }
  }
  const en = schema.get('enum');
  if (Array.isArray(en) && !(en as readonly Value[]).some((x) => equal(x, doc))) {
    add('enum', `${fieldName(path)} must be one of the following: ${(en as readonly Value[]).map((x) => termString(x)).join(', ')}`);
  }
  const cn = schema.get('const');
  if (cn !== undefined && !equal(cn, doc)) add('const', `${fieldName(path)} does not match: ${termString(cn)}`);

  const n = num(doc);
  if (n !== undefined) {
    const min = num(schema.get('minimum'));
    const max = num(schema.get('maximum'));
    const xmin = schema.get('exclusiveMinimum');
    const xmax = schema.get('exclusiveMaximum');
    if (min !== undefined) {
      if (xmin === true ? n <= min : n < min) add(xmin === true ? 'number_gt' : 'number_gte', `Must be greater than ${xmin === true ? '' : 'or equal to '}${numberToString(min)}`);
    }
    if (max !== undefined) {
      if (xmax === true ? n >= max : n > max) add(xmax === true ? 'number_lt' : 'number_lte', `Must be less than ${xmax === true ? '' : 'or equal to '}${numberToString(max)}`);
    }
    if (typeof xmin === 'number' && n <= xmin) add('number_gt', `Must be greater than ${numberToString(xmin)}`);
    if (typeof xmax === 'number' && n >= xmax) add('number_lt', `Must be less than ${numberToString(xmax)}`);
    const mult = num(schema.get('multipleOf'));
    if (mult !== undefined && mult !== 0 && !Number.isInteger(n / mult)) add('multiple_of', `Must be a multiple of ${numberToString(mult)}`);
  }
  if (typeof doc === 'string') {
    const len = Array.from(doc).length;
    const minL = num(schema.get('minLength'));
    const maxL = num(schema.get('maxLength'));
    if (minL !== undefined && len < minL) add('string_gte', `String length must be greater than or equal to ${minL}`);
    if (maxL !== undefined && len > maxL) add('string_lte', `String length must be less than or equal to ${maxL}`);
    const pat = schema.get('pattern');
    if (typeof pat === 'string' && !regexTest(pat, doc)) add('pattern', `Does not match pattern '${pat}'`);
  }
  if (Array.isArray(doc)) {
    const arr = doc as readonly Value[];
    const minI = num(schema.get('minItems'));
    const maxI = num(schema.get('maxItems'));
    if (minI !== undefined && arr.length < minI) add('array_min_items', `Array must have at least ${minI} items`);
    if (maxI !== undefined && arr.length > maxI) add('array_max_items', `Array must have at most ${maxI} items`);
    if (schema.get('uniqueItems') === true) {
      for (let i = 0; i < arr.length; i++) {
        for (let j = i + 1; j < arr.length; j++) {
          if (compare(arr[i]!, arr[j]!) === 0) add('unique', `array items[${i},${j}] must be unique`);
        }
      }
    }
    const items = schema.get('items');
    if (Array.isArray(items)) {
      (items as readonly Value[]).forEach((s, i) => {
        if (i < arr.length) validate(root, s, arr[i]!, [...path, String(i)], errs);
      });
    } else if (items !== undefined) arr.forEach((x, i) => validate(root, items, x, [...path, String(i)], errs));
  }
  if (doc instanceof RegoObject) {
    const req = schema.get('required');
    if (Array.isArray(req)) {
      for (const k of req as readonly Value[]) if (typeof k === 'string' && !doc.has(k)) add('required', `${k} is required`);
    }
    const props = schema.get('properties');
    const extra = schema.get('additionalProperties');
    for (const [k, v] of doc.sortedEntries()) {
      if (typeof k !== 'string') continue;
      const ps = props instanceof RegoObject ? props.get(k) : undefined;
      if (ps !== undefined) validate(root, ps, v, [...path, k], errs);
      else if (extra === false) add('additional_property_not_allowed', `Additional property ${k} is not allowed`);
      else if (extra instanceof RegoObject) validate(root, extra, v, [...path, k], errs);
    }
  }
  const sub = (s: Value): boolean => {
    const e: SchemaError[] = [];
    validate(root, s, doc, path, e);
    return e.length === 0;
  };
  const allOf = schema.get('allOf');
  if (Array.isArray(allOf)) for (const s of allOf as readonly Value[]) validate(root, s, doc, path, errs);
  const anyOf = schema.get('anyOf');
  if (Array.isArray(anyOf) && !(anyOf as readonly Value[]).some(sub)) add('number_any_of', 'Must validate at least one schema (anyOf)');
  const oneOf = schema.get('oneOf');
  if (Array.isArray(oneOf) && (oneOf as readonly Value[]).filter(sub).length !== 1) add('number_one_of', 'Must validate one and only one schema (oneOf)');
  const not = schema.get('not');
  if (not !== undefined && sub(not)) add('number_not', 'Must not validate the schema (not)');
}

export function register(r: BuiltinRegistry): void {
  def(r, 'json.verify_schema', 1, (args) => {
    try {
      checkSchema(operand(args[0]!, 1));
      return [true, null];
    } catch (e) {
      if (e instanceof BuiltinError) return [false, e.message];
      throw e;
    }
  });
  def(r, 'json.match_schema', 2, (args) => {
    const doc = operand(args[0]!, 1);
    const schema = operand(args[1]!, 2);
    checkSchema(schema);
    const errs: SchemaError[] = [];
    validate(schema, schema, doc, [], errs);
    return [
      errs.length === 0,
      errs.map((e) => RegoObject.fromRecord({ desc: e.desc, error: `${e.field}: ${e.desc}`, field: e.field, type: e.type })),
    ];
  });
}
