import { describe, expect, it } from 'vitest';
import {
  BigNum,
  RegoObject,
  RegoSet,
  compare,
  equal,
  fromJSON,
  keyOf,
  numAdd,
  numDiv,
  numMul,
  numberToString,
  parseJSON,
  parseNumber,
  toJSON,
  toJSONText,
  typeName,
  type Value,
} from '../../src/value';

describe('numbers', () => {
  it('keeps safe integers and decimals as JS numbers and big integers exact', () => {
    expect(parseNumber('42')).toBe(42);
    expect(parseNumber('1.5')).toBe(1.5);
    expect(parseNumber('1.0')).toBe(1);
    const big = parseNumber('12345678901234567890123');
    expect(big).toBeInstanceOf(BigNum);
    expect((big as BigNum).int).toBe(12345678901234567890123n);
    expect(parseNumber('1e30')).toEqual(new BigNum(10n ** 30n, '1e30'));
    expect(parseNumber('01')).toBeUndefined();
  });

  it('does exact integer arithmetic beyond 2^53 and falls back to doubles otherwise', () => {
    expect(numberToString(numAdd(9007199254740991, 2))).toBe('9007199254740993');
    expect(numberToString(numMul(parseNumber('123456789012345678')!, 10))).toBe('1234567890123456780');
    expect(numAdd(0.5, 0.25)).toBe(0.75);
    expect(numDiv(10, 5)).toBe(2);
    expect(numDiv(1, 4)).toBe(0.25);
  });

  it('computes on non-integers as OPA does (64-bit big floats), so 0.1 + 0.2 is 0.3', () => {
    expect(numAdd(0.1, 0.2)).toBe(0.3);
    expect(numMul(0.1, 3)).toBe(0.3);
    // OPA's 64-bit mantissa quotient, kept exactly (a double cannot hold it).
    expect(numberToString(numDiv(1, 3))).toBe('0.33333333333333333334');
    expect(numberToString(numAdd(1.1, 2.2))).toBe('3.3000000000000000002');
    expect(numAdd(0.5, 0.25)).toBe(0.75);
  });

  it('keeps decimals a double cannot hold exactly, and orders them exactly', () => {
    const a = parseNumber('0.1234567890123456789')!;
    const b = parseNumber('0.1234567890123456788')!;
    expect(a).toBeInstanceOf(BigNum);
    expect(compare(a, b)).toBe(1);
    expect(compare(parseNumber('1e-400')!, 0)).toBe(1);
    expect(equal(parseNumber('3.50')!, 3.5)).toBe(true);
    expect(numberToString(a)).toBe('0.1234567890123456789');
    expect(keyOf(a)).not.toBe(keyOf(b));
  });

  it('prints numbers as Go does', () => {
    expect(numberToString(1e-7)).toBe('1e-07');
    expect(numberToString(0.1)).toBe('0.1');
    expect(numberToString(-0)).toBe('0');
  });
});

describe('compare (OPA total order)', () => {
  const ordered: Value[] = [
    null,
    false,
    true,
    -1,
    2.5,
    new BigNum(10n ** 20n),
    '',
    'a',
    'b',
    [],
    [1],
    [1, 2],
    new RegoObject(),
    RegoObject.fromRecord({ a: 1 }),
    RegoObject.fromRecord({ a: 2 }),
    RegoObject.fromRecord({ b: 1 }),
    new RegoSet(),
    new RegoSet([1]),
    new RegoSet([1, 2]),
  ];
  it('orders null < boolean < number < string < array < object < set', () => {
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compare(ordered[i]!, ordered[j]!)), `${i} vs ${j}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('compares strings by code point like Go, not by UTF-16 unit', () => {
    expect(compare('\uffff', '😀')).toBeLessThan(0);
    expect(compare('😀', '\uffff')).toBeGreaterThan(0);
  });
});

describe('equality and hashing', () => {
  it('treats sets and objects structurally, regardless of insertion order', () => {
    const a = new RegoSet([1, 'x', [1, 2]]);
    const b = new RegoSet([[1, 2], 'x', 1]);
    expect(equal(a, b)).toBe(true);
    expect(keyOf(a)).toBe(keyOf(b));
    const o1 = new RegoObject([
      ['a', 1],
      [[1], 'arr'],
    ]);
    const o2 = new RegoObject([
      [[1], 'arr'],
      ['a', 1],
    ]);
    expect(equal(o1, o2)).toBe(true);
    expect(o1.get([1])).toBe('arr');
  });

  it('keeps scalars of different types apart as keys', () => {
    const s = new RegoSet([1, '1', true, 'true', null, 'null', '\u0000[1]', [1]]);
    expect(s.size).toBe(8);
  });

  it('deduplicates equal elements of sets', () => {
    const s = new RegoSet([[1, 2], [1, 2], RegoObject.fromRecord({ a: 1 }), RegoObject.fromRecord({ a: 1 })]);
    expect(s.size).toBe(2);
  });
});

describe('JSON', () => {
  it('round-trips big integers exactly', () => {
    const text = '{"n":123456789012345678901234567890,"f":1.5,"s":[1,2]}';
    const v = parseJSON(text);
    expect(toJSONText(v)).toBe('{"f":1.5,"n":123456789012345678901234567890,"s":[1,2]}');
  });

  it('serialises sets as sorted arrays and non-string keys as their JSON', () => {
    const v = new RegoObject([
      [new RegoSet([2, 1]), new RegoSet(['b', 'a'])],
      [1, true],
    ]);
    expect(toJSONText(v)).toBe('{"1":true,"[1,2]":["a","b"]}');
    expect(toJSON(new RegoSet([3, 1]))).toEqual([1, 3]);
  });

  it('pretty-prints with an indent', () => {
    expect(toJSONText(fromJSON({ a: [1] }), 2)).toBe('{\n  "a": [\n    1\n  ]\n}');
  });

  it('names types as OPA does', () => {
    expect([null, true, 1, 's', [], new RegoObject(), new RegoSet()].map(typeName)).toEqual([
      'null',
      'boolean',
      'number',
      'string',
      'array',
      'object',
      'set',
    ]);
  });
});
