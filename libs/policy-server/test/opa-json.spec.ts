import { describe, expect, it } from 'vitest';
import { opaJson } from '../src/index';

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
