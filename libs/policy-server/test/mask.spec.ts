import { describe, expect, it } from 'vitest';
import { applyMask, parseMaskRules } from '../src/index';

describe('decision-log masking', () => {
  const rules = parseMaskRules(['/input/password', '/input/user/token', '/input/list/0', '/result/secret', '/input/absent']);

  it('erases the listed fields and names them, without touching the originals', () => {
    const input = { password: 'p', user: { name: 'n', token: 't' }, list: ['a', 'b'] };
    const result = { allow: true, secret: 's' };
    const out = applyMask(rules, { input, result });
    expect(out.input).toEqual({ user: { name: 'n' }, list: ['b'] });
    expect(out.result).toEqual({ allow: true });
    expect(out.erased).toEqual(['/input/password', '/input/user/token', '/input/list/0', '/result/secret']);
    expect(input.password).toBe('p');
    expect(input.user.token).toBe('t');
  });

  it('decodes ~1 and ~0 in pointers', () => {
    const out = applyMask(parseMaskRules(['/input/a~1b', '/input/c~0d']), { input: { 'a/b': 1, 'c~d': 2, e: 3 } });
    expect(out.input).toEqual({ e: 3 });
  });

  it('rejects pointers outside input and result', () => {
    expect(() => parseMaskRules(['/data/x'])).toThrow(TypeError);
    expect(() => parseMaskRules(['input/x'])).toThrow(TypeError);
  });
});
