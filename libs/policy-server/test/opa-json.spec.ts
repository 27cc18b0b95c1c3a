import { describe, expect, it } from 'vitest';
import { opaJson } from '../src/index';
import { Ordered } from '../src/opa/json';

describe('opaJson', () => {
  it('sorts object keys and ends with a newline, like Go’s encoder', () => {
    expect(opaJson({ b: 1, a: { d: true, c: null } })).toBe('{"a":{"c":null,"d":true},"b":1}\n');
  });

  it('escapes HTML characters as Go does', () => {
    expect(opaJson({ s: '<a & b>' })).toBe('{"s":"\\u003ca \\u0026 b\\u003e"}\n');
  });

  it('indents with two spaces when pretty', () => {
    expect(opaJson({ result: [1, 2], empty: {} }, true)).toBe('{\n  "empty": {},\n  "result": [\n    1,\n    2\n  ]\n}\n');
  });

  it('writes big integers exactly and sets as arrays', () => {
    expect(opaJson([12345678901234567890n, new Set(['x'])])).toBe('[12345678901234567890,["x"]]\n');
  });
});

describe('opaJson against the previous writer', () => {
  it.each([
    ['integer-like keys in byte order, not JavaScript’s', { 10: 'a', 9: 'b', '-1': 'c', a: 'd' }, '{"-1":"c","10":"a","9":"b","a":"d"}\n'],
    ['escapes in keys and nested strings', { 'a<b': ['x&y', { '\u2028': '>' }] }, '{"a\\u003cb":["x\\u0026y",{"\\u2028":"\\u003e"}]}\n'],
    ['undefined skipped in objects, null in arrays', { a: undefined, b: [undefined, NaN, Infinity] }, '{"b":[null,null,null]}\n'],
    ['an empty object after skipping', { a: undefined }, '{}\n'],
    ['toJSON values', { when: new Date(0) }, '{"when":"1970-01-01T00:00:00.000Z"}\n'],
  ])('%s', (_name, value, text) => {
    expect(opaJson(value)).toBe(text);
  });

  it('keeps an envelope’s order and sorts what is inside it, pretty too', () => {
    const envelope = new Ordered({ z: 1, result: { b: 2, a: [] }, skipped: undefined });
    expect(opaJson(envelope)).toBe('{"z":1,"result":{"a":[],"b":2}}\n');
    expect(opaJson(envelope, true)).toBe('{\n  "z": 1,\n  "result": {\n    "a": [],\n    "b": 2\n  }\n}\n');
  });
});
