import { describe, expect, it } from 'vitest';
import { call, check, ctx, registry, rowName, type Row } from './harness';
import type { RelationHints } from '../../src/builtins';
import { RegoObject, RegoSet, parseJSON, toJSON, typeName } from '../../src/value';

const TYPE = 'eval_type_error';
const BUILTIN = 'eval_builtin_error';

const objects: Row[] = [
  ['object.get', '[{"a": {"b": 1}}, ["a", "b"], 0]', '1'],
  ['object.get', '[{"a": [1, {"c": 2}]}, ["a", 1, "c"], 0]', '2'],
  ['object.get', '[{"a": 1}, "b", "dflt"]', '"dflt"'],
  ['object.get', '[{"a": 1}, [], 0]', '{"a": 1}'],
  ['object.get', '["x", "a", 0]', { error: 'object.get: operand 1 must be object but got string', code: TYPE }],
  ['object.keys', '[{"a": 1, "b": 2}]', '["a", "b"]'],
  ['object.remove', '[{"a": 1, "b": 2}, ["a"]]', '{"b": 2}'],
  ['object.remove', '[{"a": 1, "b": 2}, {"b": 0}]', '{"a": 1}'],
  ['object.remove', '[{"a": 1}, "a"]', { error: 'object.remove: operand 2 must be one of {object, set, array} but got string', code: TYPE }],
  ['object.filter', '[{"a": 1, "b": 2, "c": 3}, ["a", "c"]]', '{"a": 1, "c": 3}'],
  ['object.union', '[{"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}]', '{"a": {"b": 3, "c": 2}}'],
  ['object.union', '[{"a": 1}, []]', { error: 'object.union: operand 2 must be object but got array', code: TYPE }],
  ['object.union_n', '[[{"a": {"b": 2}}, {"a": 4}, {"a": {"c": 3}}]]', '{"a": {"c": 3}}'],
  ['object.subset', '[{"a": "b", "c": {"x": 1, "y": 2}}, {"c": {"x": 1}}]', 'true'],
  ['object.subset', '[[1, 2, 3, 4], [2, 3]]', 'true'],
  ['object.subset', '[[1, 2, 3, 4], [3, 2]]', 'false'],
  ['json.filter', '[{"a": {"b": 1, "c": 2}, "d": 3}, ["a/b", "d"]]', '{"a": {"b": 1}, "d": 3}'],
  ['json.filter', '[{"a": [{"b": 1}, {"b": 2}]}, [["a", "1"]]]', '{"a": [{"b": 2}]}'],
  ['json.remove', '[{"a": {"b": 1, "c": 2}, "d": 3}, ["a/b", "d"]]', '{"a": {"c": 2}}'],
  ['json.remove', '[{"a": [1, 2, 3]}, ["a/1"]]', '{"a": [1, 3]}'],
  ['json.remove', '["x", []]', { error: 'json.remove: operand 1 must be object but got string', code: TYPE }],
  ['json.remove', '[{}, [1]]', { error: 'operand 2 must be one of {set, array} containing string paths or array of path segments but got number', code: TYPE }],
  ['json.patch', '[{"a": 1}, [{"op": "add", "path": "/b", "value": 2}]]', '{"a": 1, "b": 2}'],
  ['json.patch', '[{"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/a/0"}]]', '{"a": [2, 3]}'],
  ['json.patch', '[{"a": 1}, [{"op": "move", "from": "/a", "path": "/b"}, {"op": "copy", "from": "/b", "path": "/c"}]]', '{"b": 1, "c": 1}'],
  ['json.patch', '[{"a": 1}, [{"op": "test", "path": "/a", "value": 2}]]', 'undefined'],
  ['json.patch', '[{"a": 1}, [{"op": "replace", "path": "", "value": 5}]]', '5'],
];

const encoding: Row[] = [
  ['json.marshal', '[[{"foo": [3, 1]}]]', '"[{\\"foo\\":[3,1]}]"'],
  ['json.marshal', '[{"b": 1, "a": "<"}]', '"{\\"a\\":\\"\\\\u003c\\",\\"b\\":1}"'],
  ['json.marshal_with_options', '[[1, 2], {"pretty": true}]', '"[\\n\\t1,\\n\\t2\\n]"'],
  ['json.marshal_with_options', '[[], {"indent": "    ", "prefix": "---"}]', '"---[]"'],
  ['json.marshal_with_options', '[{"b": 1}, {"prefix": "> "}]', '"> {\\n> \\t\\"b\\": 1\\n> }"'],
  ['json.marshal_with_options', '[[], {"nope": true}]', { error: 'object contained unknown key "nope"', code: TYPE }],
  ['json.unmarshal', '["{\\"a\\": 12345678901234567890}"]', '{"a": 12345678901234567890}'],
  ['json.unmarshal', '["{"]', { error: 'json.unmarshal', code: BUILTIN }],
  ['json.is_valid', '["{\\"a\\": 1}"]', 'true'],
  ['json.is_valid', '["plain"]', 'false'],
  ['base64.encode', '["hello"]', '"aGVsbG8="'],
  ['base64.decode', '["c3ViamVjdHM/X2Q="]', '"subjects?_d"'],
  ['base64.decode', '["a$b="]', { error: 'illegal base64 data at input byte 1', code: BUILTIN }],
  ['base64.is_valid', '["aGVsbG8="]', 'true'],
  ['base64.is_valid', '["aGVsbG8"]', 'false'],
  ['base64url.encode', '["hello"]', '"aGVsbG8="'],
  ['base64url.encode_no_pad', '["hello"]', '"aGVsbG8"'],
  ['base64url.decode', '["aGVsbG8"]', '"hello"'],
  ['hex.encode', '["lorem ipsum"]', '"6c6f72656d20697073756d"'],
  ['hex.decode', '["fghijkl"]', { error: "invalid byte: U+0067 'g'", code: BUILTIN }],
  ['urlquery.encode', '["a=b+1 c"]', '"a%3Db%2B1+c"'],
  ['urlquery.decode', '["a%3Db%2B1+c"]', '"a=b+1 c"'],
  ['urlquery.encode_object', '[{"b": ["x", "y"], "a": "c=b+1"}]', '"a=c%3Db%2B1&b=x&b=y"'],
  ['urlquery.decode_object', '["a=value_a1&b&a=value_a2"]', '{"a": ["value_a1", "value_a2"], "b": [""]}'],
  ['yaml.marshal', '[[{"foo": [1, 2]}]]', '"- foo:\\n  - 1\\n  - 2\\n"'],
  ['yaml.unmarshal', '["a: 1\\nb: [x, y]"]', '{"a": 1, "b": ["x", "y"]}'],
  ['yaml.unmarshal', '["[1,2,3"]', { error: 'yaml: line 1: did not find', code: BUILTIN }],
  ['yaml.is_valid', '["foo: {"]', 'false'],
  ['yaml.unmarshal', '[""]', 'null'],
  ['yaml.unmarshal', '["a: 1\\n---\\nb: 2"]', '{"a": 1}'],
  ['json.unmarshal', '["[1,"]', { error: 'json.unmarshal: unexpected end of JSON input', code: BUILTIN }],
  ['json.match_schema', '[{"id": 5}, {"properties": {"id": {"type": "integer"}}, "required": ["id"]}]', '[true, []]'],
  [
    'json.match_schema',
    '[{"id": "x"}, "{\\"properties\\": {\\"id\\": {\\"type\\": \\"integer\\"}}}"]',
    '[false, [{"desc": "Invalid type. Expected: integer, given: string", "error": "id: Invalid type. Expected: integer, given: string", "field": "id", "type": "invalid_type"}]]',
  ],
  ['json.match_schema', '[{}, {"required": ["id"]}]', '[false, [{"desc": "id is required", "error": "(root): id is required", "field": "(root)", "type": "required"}]]'],
  ['json.match_schema', '[{}, {"type": "unknown"}]', { error: 'has a primitive type that is NOT VALID -- given: /unknown/', code: BUILTIN }],
  ['json.verify_schema', '[{"type": "object"}]', '[true, null]'],
];

describe('objects and json paths', () => {
  it.each(objects.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('encoding', () => {
  it.each(encoding.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});

describe('walk', () => {
  const walkAll = (json: string, hints: RelationHints = {}): string[] =>
    [...registry.get('walk')!.iter!([parseJSON(json)], ctx, hints)].map((pair) => JSON.stringify(toJSON(pair)));

  it('yields every [path, value] pair pre-order, keys sorted', () => {
    expect(walkAll('{"b": [1], "a": 2}')).toEqual(['[[],{"a":2,"b":[1]}]', '[["a"],2]', '[["b"],[1]]', '[["b",0],1]']);
  });
  it('restricts the walk to a ground path prefix', () => {
    expect(walkAll('{"a": {"x": 1}, "b": {"y": 2}}', { pathFilter: ['a', undefined] })).toEqual(['[["a","x"],1]']);
  });
  it('skips path construction when the path is unused', () => {
    expect(walkAll('[1, [2]]', { pathUnused: true })).toEqual(['[[],[1,[2]]]', '[[],1]', '[[],[2]]', '[[],2]']);
  });
});

describe('collections built-ins answer the right types', () => {
  it('object.keys answers a set and net.cidr_expand a set', () => {
    expect(typeName(call('object.keys', [RegoObject.fromRecord({ a: 1 })])!)).toBe('set');
    expect(typeName(call('net.cidr_expand', ['10.0.0.0/31'])!)).toBe('set');
  });
  it('object.remove accepts a set of keys', () => {
    const got = call('object.remove', [RegoObject.fromRecord({ a: 1, b: 2 }), new RegoSet(['a'])]) as RegoObject;
    expect([...got.keys()]).toEqual(['b']);
  });
});
