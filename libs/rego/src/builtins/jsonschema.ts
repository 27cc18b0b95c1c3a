/**
 * OPA v1/topdown/jsonschema.go: json.verify_schema and json.match_schema. OPA uses
 * xeipuuv/gojsonschema; this validator covers the common keywords (type, properties,
 * required, additionalProperties, items, enum, const, numeric and length bounds, pattern,
 * allOf/anyOf/oneOf/not, local $ref) and reports errors in gojsonschema's words.
 */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { compileRegex, regexTest } from './regex-engine';
import { termString } from './format';
import { def } from './utils';
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

/**
 * OPA's astValueToJSONSchemaLoader: strings are raw JSON (checked first), objects and arrays are
 * serialised; anything else is refused. Its errors carry no operand position.
 */
function operand(v: Value): Value {
  if (typeof v === 'string') {
    try {
      return parseJSON(v);
    } catch {
      throw new BuiltinError('invalid JSON string');
    }
  }
  if (v instanceof RegoObject || Array.isArray(v)) return v;
  throw new BuiltinError('wrong type, expected string or object');
}

/** gojsonschema's drafts; Hybrid (no or unknown $schema) accepts every draft's forms. */
const DRAFT4 = 4;
const DRAFT6 = 6;
const DRAFT7 = 7;
const HYBRID = 1000;
const DRAFT_URLS: Record<string, number> = {
  'http://json-schema.org/draft-04/schema': DRAFT4,
  'http://json-schema.org/draft-06/schema': DRAFT6,
  'http://json-schema.org/draft-07/schema': DRAFT7,
};

function fail(msg: string): never {
  throw new BuiltinError(msg);
}
/** gojsonschema's invalidType; some call sites pass key and type the other way round, kept so. */
function invalidType(expected: string, given: string): never {
  return fail(`Invalid type. Expected: ${expected}, given: ${given}`);
}
const isNum = (v: Value | undefined): v is number | BigNum => typeof v === 'number' || v instanceof BigNum;
const isInt = (v: Value | undefined): v is number | BigNum =>
  (typeof v === 'number' && Number.isInteger(v)) || (v instanceof BigNum && v.scale === 0);
const isSchemaNode = (v: Value): boolean => typeof v === 'boolean' || v instanceof RegoObject;

/**
 * gojsonschema's Compile: the schema checks of schema.go's parseSchema, in its order, failing on
 * the first. Texts are its DefaultLocale's. A subschema with `$ref` is not read further, as there.
 */
function checkSchema(root: Value): void {
  if (typeof root !== 'boolean' && !(root instanceof RegoObject)) fail('schema is invalid');
  let draft = HYBRID;
  if (root instanceof RegoObject && root.has('$schema')) {
    const url = root.get('$schema');
    if (typeof url !== 'string') fail('$schema must be of type string');
    draft = DRAFT_URLS[(url as string).replace(/#$/, '')] ?? HYBRID;
  }
  parseSchema(root, draft);
}

function parseSchema(node: Value, draft: number): void {
  if (draft >= DRAFT6 && typeof node === 'boolean') return;
  if (!(node instanceof RegoObject)) return fail('Expected: valid schema, given: Invalid JSON');
  const m = node;
  const str = (key: string): void => {
    if (m.has(key) && typeof m.get(key) !== 'string') invalidType('string', key);
  };
  const slice = (key: string): readonly Value[] => {
    if (!m.has(key)) return [];
    const v = m.get(key);
    if (!Array.isArray(v)) fail(`${key} must be of an array`);
    return v as readonly Value[];
  };
  const integer = (key: string): number | undefined => {
    if (!m.has(key)) return undefined;
    const v = m.get(key);
    if (!isInt(v)) fail(`${key} must be of an integer`);
    const n = toDouble(v!);
    if (n < 0) fail(`${key} must be greater than or equal to 0`);
    return n;
  };
  const subschema = (key: string): void => {
    const v = m.get(key);
    if (v === undefined) return;
    if (!isSchemaNode(v)) fail(`${key} must be of an object`);
    parseSchema(v, draft);
  };

  str(draft === DRAFT4 || (draft === HYBRID && m.has('id')) ? 'id' : '$id');
  if (m.has('definitions')) {
    const defs = m.get('definitions');
    if (!(defs instanceof RegoObject)) invalidType('array of schemas', 'definitions');
    for (const d of (defs as RegoObject).values()) {
      if (!isSchemaNode(d)) invalidType('array of schemas', 'definitions');
      parseSchema(d, draft);
    }
  }
  str('title');
  str('description');
  if (m.has('$ref')) {
    str('$ref');
    return;
  }
  if (m.has('type')) {
    const t = m.get('type');
    const seen: string[] = [];
    const add = (x: string): void => {
      if (!TYPES.includes(x)) fail(`has a primitive type that is NOT VALID -- given: /${x}/ Expected valid values are:[${TYPES.join(' ')}]`);
      if (seen.includes(x)) fail(`${x} type is duplicated`);
      seen.push(x);
    };
    if (typeof t === 'string') add(t);
    else if (Array.isArray(t)) {
      for (const x of t as readonly Value[]) {
        if (typeof x !== 'string') invalidType('type', 'string/array of strings');
        add(x as string);
      }
    } else invalidType('type', 'string/array of strings');
  }
  if (m.has('properties')) {
    const props = m.get('properties');
    if (!(props instanceof RegoObject)) fail('properties must be of type object');
    for (const v of (props as RegoObject).values()) parseSchema(v, draft);
  }
  if (m.has('additionalProperties')) {
    const v = m.get('additionalProperties')!;
    if (v instanceof RegoObject) parseSchema(v, draft);
    else if (typeof v !== 'boolean') invalidType('boolean/valid schema', 'additionalProperties');
  }
  if (m.has('patternProperties')) {
    const pp = m.get('patternProperties');
    if (!(pp instanceof RegoObject)) invalidType('valid schema', 'patternProperties');
    for (const [k, v] of (pp as RegoObject).entries()) {
      if (typeof k === 'string') {
        try {
          compileRegex(k);
        } catch {
          fail(`Invalid regex pattern '${k}'`);
        }
      }
      parseSchema(v, draft);
    }
  }
  if (draft >= DRAFT6 && m.has('propertyNames')) {
    const v = m.get('propertyNames')!;
    if (!isSchemaNode(v)) invalidType('valid schema', 'patternProperties');
    parseSchema(v, draft);
  }
  if (m.has('dependencies')) {
    const deps = m.get('dependencies');
    if (!(deps instanceof RegoObject)) fail('dependencies must be of type object');
    for (const v of (deps as RegoObject).values()) {
      if (Array.isArray(v)) {
        for (const x of v as readonly Value[]) if (typeof x !== 'string') fail('dependency must be of type schema or array of strings');
      } else if (isSchemaNode(v)) parseSchema(v, draft);
      else fail('dependency must be of type schema or array of strings');
    }
  }
  if (m.has('items')) {
    const items = m.get('items')!;
    if (Array.isArray(items)) {
      for (const x of items as readonly Value[]) {
        if (!isSchemaNode(x)) invalidType('valid schema/array of schemas', 'items');
        parseSchema(x, draft);
      }
    } else if (isSchemaNode(items)) parseSchema(items, draft);
    else invalidType('valid schema/array of schemas', 'items');
  }
  if (m.has('additionalItems')) {
    const v = m.get('additionalItems')!;
    if (v instanceof RegoObject) parseSchema(v, draft);
    else if (typeof v !== 'boolean') invalidType('boolean/valid schema', 'additionalItems');
  }
  if (m.has('multipleOf')) {
    const v = m.get('multipleOf');
    if (!isNum(v)) invalidType('number', 'multipleOf');
    if (toDouble(v!) <= 0) fail('multipleOf must be strictly greater than 0');
  }
  for (const [bound, exclusive] of [
    ['minimum', 'exclusiveMinimum'],
    ['maximum', 'exclusiveMaximum'],
  ] as const) {
    if (m.has(bound) && !isNum(m.get(bound))) fail(`${bound} must be of a number`);
    if (!m.has(exclusive)) continue;
    const x = m.get(exclusive);
    if (draft === DRAFT4 || (draft === HYBRID && typeof x === 'boolean')) {
      if (typeof x !== 'boolean') invalidType('boolean', exclusive);
      if (!m.has(bound)) fail(`${exclusive} cannot be used without ${bound}`);
    } else if (!isNum(x)) invalidType(draft === HYBRID ? 'boolean/number' : 'number', exclusive);
  }
  const minLength = integer('minLength');
  const maxLength = integer('maxLength');
  if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) fail('minLength cannot be greater than maxLength');
  str('pattern');
  const pattern = m.get('pattern');
  if (typeof pattern === 'string') {
    try {
      compileRegex(pattern);
    } catch {
      fail('pattern must be a valid regex');
    }
  }
  str('format');
  const minProps = integer('minProperties');
  const maxProps = integer('maxProperties');
  if (minProps !== undefined && maxProps !== undefined && minProps > maxProps) fail('minProperties cannot be greater than maxProperties');
  const required: string[] = [];
  for (const r of slice('required')) {
    if (typeof r !== 'string') invalidType('string', 'required');
    if (required.includes(r as string)) fail('required items must be unique');
    required.push(r as string);
  }
  integer('minItems');
  integer('maxItems');
  if (m.has('uniqueItems') && typeof m.get('uniqueItems') !== 'boolean') fail('uniqueItems must be of a boolean');
  if (draft >= DRAFT6 && m.has('contains')) parseSchema(m.get('contains')!, draft);
  const seenEnum: Value[] = [];
  for (const e of slice('enum')) {
    if (seenEnum.some((x) => equal(x, e))) fail('enum items must be unique');
    seenEnum.push(e);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf']) for (const v of slice(key)) parseSchema(v, draft);
  subschema('not');
  if (draft >= DRAFT7) for (const key of ['if', 'then', 'else']) subschema(key);
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
  // Every failure is an answer here, prefixed as OPA prefixes gojsonschema's errors.
  def(r, 'json.verify_schema', 1, (args) => {
    try {
      checkSchema(operand(args[0]!));
      return [true, null];
    } catch (e) {
      if (e instanceof BuiltinError) return [false, `jsonschema: ${e.message}`];
      throw e;
    }
  });
  def(r, 'json.match_schema', 2, (args) => {
    const doc = operand(args[0]!);
    const schema = operand(args[1]!);
    checkSchema(schema);
    const errs: SchemaError[] = [];
    validate(schema, schema, doc, [], errs);
    return [
      errs.length === 0,
      errs.map((e) => RegoObject.fromRecord({ desc: e.desc, error: `${e.field}: ${e.desc}`, field: e.field, type: e.type })),
    ];
  });
}
