import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/builtins/glob';
import { LruCache } from '../../src/builtins/lru-cache';
import { compileRegex } from '../../src/builtins/regex-engine';

describe('LruCache', () => {
  it('evicts the least recently used entry when full', () => {
    const cache = new LruCache<number>(2);
    cache.getOrCreate('a', () => 1);
    cache.getOrCreate('b', () => 2);
    cache.getOrCreate('a', () => -1); // a hit: b is now the coldest
    cache.getOrCreate('c', () => 3);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
  });

  it('answers a hit without calling make again', () => {
    const cache = new LruCache<number>(4);
    let calls = 0;
    const make = () => ++calls;
    expect([cache.getOrCreate('k', make), cache.getOrCreate('k', make)]).toEqual([1, 1]);
  });

  it('stores nothing when make throws', () => {
    const cache = new LruCache<number>(4);
    expect(() =>
      cache.getOrCreate('bad', () => {
        throw new Error('bad pattern');
      }),
    ).toThrow('bad pattern');
    expect(cache.has('bad')).toBe(false);
  });

  it('rejects a capacity below one', () => {
    expect(() => new LruCache<number>(0)).toThrow(TypeError);
  });
});

describe('compiled pattern caches', () => {
  it('compiles a regex once for repeated calls', () => {
    expect(compileRegex('^x(y+)$')).toBe(compileRegex('^x(y+)$'));
  });

  it('keys globs by pattern and delimiters', () => {
    const dot = compileGlob('*.com', [0x2e]);
    expect(compileGlob('*.com', [0x2e])).toBe(dot);
    expect(compileGlob('*.com', [0x2f])).not.toBe(dot);
    expect(compileGlob('*.com', [0x2f]).testExact('a.b.com')).toBe(true);
    expect(dot.testExact('a.b.com')).toBe(false);
  });
});
