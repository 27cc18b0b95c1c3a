import { describe, it } from 'vitest';
import { check, rowName, type Row } from './harness';

const BUILTIN = 'eval_builtin_error';
const args = (...xs: unknown[]): string => JSON.stringify(xs);
/** json.verify_schema's answer for a schema gojsonschema refuses to compile. */
const refused = (schema: unknown, msg: string): Row => ['json.verify_schema', args(schema), JSON.stringify([false, `jsonschema: ${msg}`])];

/** gojsonschema's schema checks (schema.go parseSchema) with its DefaultLocale texts, first failure wins. */
const invalidSchemas: Row[] = [
  refused({ type: 'unknown' }, 'has a primitive type that is NOT VALID -- given: /unknown/ Expected valid values are:[array boolean integer number null object string]'),
  refused({ type: ['string', 'string'] }, 'string type is duplicated'),
  // gojsonschema passes key and expected type the other way round here.
  refused({ type: 5 }, 'Invalid type. Expected: type, given: string/array of strings'),
  refused({ type: ['string', 1] }, 'Invalid type. Expected: type, given: string/array of strings'),
  refused({ properties: [] }, 'properties must be of type object'),
  refused({ properties: { a: { type: 'nope' } } }, 'has a primitive type that is NOT VALID -- given: /nope/ Expected valid values are:[array boolean integer number null object string]'),
  refused({ definitions: { x: 5 } }, 'Invalid type. Expected: array of schemas, given: definitions'),
  refused({ title: 1 }, 'Invalid type. Expected: string, given: title'),
  refused({ additionalProperties: 1 }, 'Invalid type. Expected: boolean/valid schema, given: additionalProperties'),
  refused({ patternProperties: [] }, 'Invalid type. Expected: valid schema, given: patternProperties'),
  refused({ patternProperties: { '(': {} } }, "Invalid regex pattern '('"),
  refused({ dependencies: { a: [1] } }, 'dependency must be of type schema or array of strings'),
  refused({ items: 5 }, 'Invalid type. Expected: valid schema/array of schemas, given: items'),
  refused({ items: [{}, 'x'] }, 'Invalid type. Expected: valid schema/array of schemas, given: items'),
  refused({ multipleOf: 'x' }, 'Invalid type. Expected: number, given: multipleOf'),
  refused({ multipleOf: 0 }, 'multipleOf must be strictly greater than 0'),
  refused({ minimum: '1' }, 'minimum must be of a number'),
  refused({ exclusiveMinimum: true }, 'exclusiveMinimum cannot be used without minimum'),
  refused({ exclusiveMaximum: 'x' }, 'Invalid type. Expected: boolean/number, given: exclusiveMaximum'),
  refused({ minLength: -1 }, 'minLength must be greater than or equal to 0'),
  refused({ maxLength: 1.5 }, 'maxLength must be of an integer'),
  refused({ minLength: 5, maxLength: 2 }, 'minLength cannot be greater than maxLength'),
  refused({ pattern: '(' }, 'pattern must be a valid regex'),
  refused({ minProperties: 3, maxProperties: 1 }, 'minProperties cannot be greater than maxProperties'),
  refused({ required: 'a' }, 'required must be of an array'),
  refused({ required: [1] }, 'Invalid type. Expected: string, given: required'),
  refused({ required: ['a', 'a'] }, 'required items must be unique'),
  refused({ minItems: -2 }, 'minItems must be greater than or equal to 0'),
  refused({ uniqueItems: 1 }, 'uniqueItems must be of a boolean'),
  refused({ contains: 1 }, 'Expected: valid schema, given: Invalid JSON'),
  refused({ enum: [1, 1] }, 'enum items must be unique'),
  refused({ anyOf: {} }, 'anyOf must be of an array'),
  refused({ oneOf: [1] }, 'Expected: valid schema, given: Invalid JSON'),
  refused({ not: 1 }, 'not must be of an object'),
  refused({ if: 'x' }, 'if must be of an object'),
  // Keywords are checked in parseSchema's order: type comes before minLength.
  refused({ minLength: -1, type: 'bad' }, 'has a primitive type that is NOT VALID -- given: /bad/ Expected valid values are:[array boolean integer number null object string]'),
  // $schema picks the draft: draft-04 wants boolean exclusive bounds and has no boolean schemas.
  refused({ $schema: 'http://json-schema.org/draft-04/schema#', minimum: 1, exclusiveMinimum: 5 }, 'Invalid type. Expected: boolean, given: exclusiveMinimum'),
  refused({ $schema: 'http://json-schema.org/draft-04/schema#', not: true }, 'Expected: valid schema, given: Invalid JSON'),
  refused({ $schema: 'http://json-schema.org/draft-07/schema#', exclusiveMinimum: true }, 'Invalid type. Expected: number, given: exclusiveMinimum'),
  refused({ $schema: 1 }, '$schema must be of type string'),
  // Loader errors come before compilation.
  refused([1], 'schema is invalid'),
  refused(5, 'wrong type, expected string or object'),
  refused('{', 'invalid JSON string'),
  // Valid schemas: a $ref stops parsing of its siblings; boolean subschemas are fine after draft-04.
  ['json.verify_schema', args({ $ref: '#', type: 'bad' }), '[true, null]'],
  ['json.verify_schema', args({ properties: { a: true, b: false }, not: { type: 'string' } }), '[true, null]'],
  ['json.verify_schema', args('true'), '[true, null]'],
  ['json.verify_schema', args({ minimum: 1, exclusiveMinimum: true, exclusiveMaximum: 5 }), '[true, null]'],
];

const matching: Row[] = [
  ['json.match_schema', args({ id: 'foo' }, { properties: { id: { type: 'unknown' } } }), {
    error: 'json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/ Expected valid values are:[array boolean integer number null object string]',
    code: BUILTIN,
  }],
  ['json.match_schema', args({}, { minLength: -1 }), { error: 'json.match_schema: minLength must be greater than or equal to 0', code: BUILTIN }],
  // The document is loaded first, so its error wins over the schema's.
  ['json.match_schema', args('{', { type: 'bad' }), { error: 'json.match_schema: invalid JSON string', code: BUILTIN }],
  ['json.match_schema', args({}, 5), { error: 'json.match_schema: wrong type, expected string or object', code: BUILTIN }],
  ['json.match_schema', args([1, 2], { type: 'array', items: { type: 'integer' } }), '[true, []]'],
  ['json.match_schema', args({ value: 'allow' }, { enum: [] }), '[false, [{"desc": "(root) must be one of the following: ", "error": "(root): (root) must be one of the following: ", "field": "(root)", "type": "enum"}]]'],
];

describe('json.verify_schema: invalid schemas', () => {
  it.each(invalidSchemas.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('json.match_schema', () => {
  it.each(matching.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
