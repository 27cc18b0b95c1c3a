import { describe, expect, it } from 'vitest';
import { call, check, rowName, type Row } from './harness';
import { RegoSet, typeName } from '../../src/value';
import { RegoError } from '../../src/errors';

const TYPE = 'eval_type_error';
const BUILTIN = 'eval_builtin_error';

const rows: Row[] = [
  // aggregates
  ['count', '["héllo"]', '5'],
  ['count', '[[1,2,3]]', '3'],
  ['count', '[{"a":1}]', '1'],
  ['count', '[null]', { error: 'count: operand 1 must be one of {array, object, set, string} but got null', code: TYPE }],
  ['sum', '[[1, 2.5, 3]]', '6.5'],
  ['sum', '[[9007199254740991, 9007199254740991]]', '18014398509481982'],
  ['sum', '[[1, "a"]]', { error: 'operand 1 must be array of numbers but got array containing string', code: TYPE }],
  ['product', '[[2, 3, 4]]', '24'],
  ['max', '[[1, "a", null]]', '"a"'],
  ['max', '[[]]', 'undefined'],
  ['min', '[[3, 1, 2]]', '1'],
  ['sort', '[[3, "a", null, [1], {"a":1}]]', '[null, 3, "a", [1], {"a":1}]'],
  ['internal.member_2', '[2, [1,2,3]]', 'true'],
  ['internal.member_2', '[2, {"a": 2}]', 'true'],
  ['internal.member_2', '[4, "abc"]', 'false'],
  ['internal.member_3', '[1, 2, [1,2,3]]', 'true'],
  ['internal.member_3', '["a", 1, {"a": 1}]', 'true'],
  // arithmetic
  ['plus', '[1, 2]', '3'],
  ['plus', '[9007199254740993, 1]', '9007199254740994'],
  ['plus', '[0.5, 0.25]', '0.75'],
  ['minus', '[49649733058, 1]', '49649733057'],
  ['mul', '[123456789012, 1000000000000]', '123456789012000000000000'],
  ['div', '[10, 4]', '2.5'],
  ['div', '[1e109, 1e100]', '1000000000'],
  ['div', '[1, 0]', { error: 'div: divide by zero', code: BUILTIN }],
  ['rem', '[7, 0]', { error: 'modulo by zero', code: BUILTIN }],
  ['rem', '[1.1, 1]', { error: 'modulo on floating-point number', code: BUILTIN }],
  ['rem', '[-7, 3]', '-1'],
  ['round', '[-2.5]', '-3'],
  ['round', '[2.5]', '3'],
  ['ceil', '[-1.99999]', '-1'],
  ['floor', '[-1.001]', '-2'],
  ['abs', '[-10]', '10'],
  ['minus', '[1, "a"]', { error: 'minus: operand 2 must be number but got string', code: TYPE }],
  // comparison
  ['lt', '[null, false]', 'true'],
  ['lt', '[1, "1"]', 'true'],
  ['gt', '[{"a":1}, [1]]', 'true'],
  ['equal', '[1, 1.0]', 'true'],
  ['neq', '[[1], [1]]', 'false'],
  // bits
  ['bits.or', '[5, 3]', '7'],
  ['bits.and', '[5, 3]', '1'],
  ['bits.xor', '[5, 3]', '6'],
  ['bits.negate', '[5]', '-6'],
  ['bits.lsh', '[1, 70]', '1180591620717411303424'],
  ['bits.rsh', '[-8, 1]', '-4'],
  ['bits.or', '[7.2, 42]', { error: 'bits.or: operand 1 must be integer number but got floating-point number', code: TYPE }],
  ['bits.lsh', '[7, -1]', { error: 'operand 2 must be an unsigned integer number but got a negative integer', code: TYPE }],
  // casts
  ['to_number', '["-42.0"]', '-42'],
  ['to_number', '[true]', '1'],
  ['to_number', '[null]', '0'],
  ['to_number', '["1e3"]', '1000'],
  ['to_number', '["broken"]', { error: 'invalid syntax', code: BUILTIN }],
  ['to_number', '["inf"]', { error: 'to_number', code: TYPE }],
  // numbers
  ['numbers.range', '[-2, 3]', '[-2, -1, 0, 1, 2, 3]'],
  ['numbers.range', '[2, -1]', '[2, 1, 0, -1]'],
  ['numbers.range', '[3.14, 4]', { error: 'numbers.range: operand 1 must be integer number but got floating-point number', code: TYPE }],
  ['numbers.range_step', '[0, 10, 3]', '[0, 3, 6, 9]'],
  ['numbers.range_step', '[0, 10, 0]', { error: 'numbers.range_step: step must be a positive integer', code: BUILTIN }],
  // types
  ['is_number', '[1]', 'true'],
  ['is_string', '[1]', 'false'],
  ['type_name', '[null]', '"null"'],
  ['type_name', '[{"a":1}]', '"object"'],
  // sets / arrays
  ['array.concat', '[[1], [2, 3]]', '[1, 2, 3]'],
  ['array.concat', '[[1], {"a": 1}]', { error: 'array.concat: operand 2 must be array but got object', code: TYPE }],
  ['array.slice', '[[1,2,3,4], 1, 3]', '[2, 3]'],
  ['array.slice', '[[1,2,3,4], -1, 10]', '[1, 2, 3, 4]'],
  ['array.slice', '[[1,2,3,4], 3, 1]', '[]'],
  ['array.reverse', '[[1,2,3]]', '[3,2,1]'],
  ['array.flatten', '[[1,[2,[3]]]]', '[1,2,[3]]'],
  // semver
  ['semver.compare', '["1.0.0-alpha", "1.0.0"]', '-1'],
  ['semver.compare', '["1.0.0-alpha.10", "1.0.0-alpha.9"]', '1'],
  ['semver.compare', '["1.0.0+build", "1.0.0"]', '0'],
  ['semver.compare', '["1.0.0", "1"]', { error: 'semver.compare: operand 2: string "1" is not a valid SemVer', code: BUILTIN }],
  ['semver.is_valid', '["v1.0.0"]', 'false'],
  ['semver.is_valid', '[1]', 'false'],
  // uuid
  ['uuid.parse', '["{00000000-0000-4000-8000-000000000000}"]', '{"variant": "RFC4122", "version": 4}'],
  [
    'uuid.parse',
    '["urn:uuid:000003e8-48b9-21ee-b200-325096b39f47"]',
    '{"clocksequence": 12800, "domain": "Person", "id": 1000, "macvariables": "local:unicast", "nodeid": "32-50-96-b3-9f-47", "time": 1693566990121469600, "variant": "RFC4122", "version": 2}',
  ],
  ['uuid.parse', '["not-a-uuid"]', 'undefined'],
  // graph
  ['graph.reachable', '[{"a": ["b"], "b": ["c"], "c": ["a"]}, ["a"]]', '["a", "b", "c"]'],
  ['graph.reachable', '[{"a": null}, ["a"]]', '["a"]'],
  ['graph.reachable', '[1, [1]]', { error: 'operand 1 must be object but got number', code: TYPE }],
  ['graph.reachable', '[{"a": []}, "a"]', { error: 'operand 2 must be {array, set} but got string', code: TYPE }],
  [
    'graph.reachable_paths',
    '[{"one": ["two","five"], "two": ["four"], "three": [""], "four": ["three"], "five": ["seven","six"], "six": ["nine","seven"], "seven": ["eight"], "eight": ["three"], "nine": [""]}, ["one"]]',
    '[["one","five","seven","eight","three"],["one","five","six"],["one","five","six","nine"],["one","two","four","three"]]',
  ],
];

describe('core built-in groups', () => {
  it.each(rows.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});

describe('errors', () => {
  it('render as OPA prints them: location, code, built-in name and message', () => {
    let err: unknown;
    try {
      call('count', [1]);
    } catch (e) {
      err = e;
    }
    const located = (err as RegoError).withLocation({ file: 'test-0.rego', row: 4, col: 2 });
    expect(String(located)).toBe('test-0.rego:4: eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number');
    expect(located.errors[0]!.location).toEqual({ file: 'test-0.rego', row: 4, col: 2 });
  });
});

describe('set-valued built-ins', () => {
  it('and/or/minus work on sets and answer sets', () => {
    const a = new RegoSet([1, 2, 3]);
    const b = new RegoSet([2, 3, 4]);
    expect([...(call('and', [a, b]) as RegoSet).sorted()]).toEqual([2, 3]);
    expect([...(call('or', [a, b]) as RegoSet).sorted()]).toEqual([1, 2, 3, 4]);
    expect([...(call('minus', [a, b]) as RegoSet).sorted()]).toEqual([1]);
    expect(typeName(call('intersection', [new RegoSet([a, b])])!)).toBe('set');
    expect([...(call('union', [new RegoSet([a, b])]) as RegoSet).sorted()]).toEqual([1, 2, 3, 4]);
  });

  it('minus reports the operand OPA names for mixed operands', () => {
    expect(() => call('minus', [new RegoSet([1]), 1])).toThrow('operand 2 must be set but got number');
    expect(() => call('minus', [1, new RegoSet([1])])).toThrow('operand 2 must be number but got set');
  });

  it('rand.intn and uuid.rfc4122 answer the same within one query', () => {
    const a = call('rand.intn', ['k', 100]);
    expect(call('rand.intn', ['k', 100])).toBe(a);
    expect(call('uuid.rfc4122', ['k'])).toBe(call('uuid.rfc4122', ['k']));
    expect(call('uuid.rfc4122', ['k'])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
