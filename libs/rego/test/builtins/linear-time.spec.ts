/**
 * Patterns that make a backtracking matcher (a JS RegExp) take exponential time, run against
 * inputs of 10,000 characters. There is no timed assertion: with a backtracking engine each of
 * these decisions needs on the order of 2^10000 steps (a 100-character input already took
 * minutes), so a regression cannot finish within the test timeout by many orders of magnitude;
 * with RE2's linear-time matching each is a single pass over the input. Patterns end in `[^a]`
 * rather than a literal so that no required-literal shortcut skips the match.
 */
import { describe, expect, it } from 'vitest';
import { compileModules } from '../../src/index';

const N = 10_000;
const as = 'a'.repeat(N);

/** One decision of `package t` rule `p` on `input`, as the sidecar would run it. */
function decide(rule: string, input: unknown): unknown {
  const set = compileModules([{ file: 't.rego', source: `package t\n${rule}` }]);
  const out = set.evaluate(['t', 'p'], { input });
  return out.defined ? out.result : undefined;
}

describe('adversarial patterns on 10,000-character input finish', () => {
  it('regex.match with nested quantifiers', () => {
    expect(decide('p := regex.match(`^(a+)+$`, input.s)', { s: as + '!' })).toBe(false);
  });

  it('regex.match still matches the long input when it should', () => {
    expect(decide('p := regex.match(`^(a+)+$`, input.s)', { s: as })).toBe(true);
  });

  it('regex.find_n', () => {
    expect(decide('p := regex.find_n(`(a+)+[^a]`, input.s, -1)', { s: as })).toEqual([]);
  });

  it('regex.find_all_string_submatch_n', () => {
    expect(decide('p := regex.find_all_string_submatch_n(`(a|aa)+[^a]`, input.s, -1)', { s: as })).toEqual([]);
  });

  it('regex.find_all_string_submatch_n with every character a match', () => {
    const got = decide('p := count(regex.find_all_string_submatch_n(`(a)`, input.s, -1))', { s: as });
    expect(got).toBe(N);
  });

  it('regex.replace', () => {
    expect(decide('p := regex.replace(input.s, `(a+)+[^a]`, "x")', { s: as })).toBe(as);
  });

  it('regex.split', () => {
    expect(decide('p := regex.split(`(a+)+[^a]`, input.s)', { s: as })).toEqual([as]);
  });

  it('regex.template_match', () => {
    expect(decide('p := regex.template_match("urn:{(a+)+}:b", input.s, "{", "}")', { s: `urn:${as}:c` })).toBe(false);
  });

  it('regex.globs_match against a long literal glob', () => {
    expect(decide('p := regex.globs_match(".*a.*a.*a.*a.*a.*a.*a.*a.*b", input.s)', { s: as })).toBe(false);
  });

  it('regex.globs_match with stars on both sides', () => {
    // Intersecting two globs is a search of their product, so its bound is |a| x |b| states;
    // a search that re-walks every skippable run at each pair grows with the fourth power.
    const stars = 'a*'.repeat(1000);
    expect(decide('p := regex.globs_match(input.a, input.b)', { a: `${stars}b`, b: `${stars}c` })).toBe(false);
  });

  it('regex.globs_match refuses a product too large to search', () => {
    const set = compileModules([{ file: 't.rego', source: 'package t\np := regex.globs_match(input.a, input.b)' }], { strictBuiltinErrors: true });
    const input = { a: 'a*'.repeat(5000), b: 'b*'.repeat(5000) };
    expect(() => set.evaluate(['t', 'p'], { input })).toThrow('globs too long to intersect: 5000 and 5000 tokens');
  });

  it('json.match_schema with an adversarial pattern', () => {
    const schema = '{"properties": {"id": {"type": "string", "pattern": "^(a+)+$"}}}';
    const got = decide(`p := json.match_schema({"id": input.s}, ${schema})`, { s: as + '!' }) as [boolean, unknown[]];
    expect(got[0]).toBe(false);
    expect(got[1]).toHaveLength(1);
  });

  it('glob.match with many stars (default delimiter)', () => {
    expect(decide('p := glob.match("*a*a*a*a*a*a*a*a*b", [], input.s)', { s: as })).toBe(false);
  });

  it('glob.match with many stars and no delimiters', () => {
    expect(decide('p := glob.match("*a*a*a*a*a*a*a*a*b", null, input.s)', { s: as })).toBe(false);
  });

  it('glob.match with super-stars and alternatives', () => {
    expect(decide('p := glob.match("**{a,aa}**{a,aa}**{a,aa}**b", ["/"], input.s)', { s: as })).toBe(false);
  });

  it('to_number with a long inner run of zeros', () => {
    // Trimming trailing zeros with `/0+$/` is quadratic, not exponential: a far longer input.
    const zeros = '0'.repeat(300_000);
    expect(decide('p := to_number(input.s) > 1', { s: `1${zeros}1` })).toBe(true);
  });

  it('trim_space with inner runs of spaces', () => {
    // A `\s+$` RegExp is quadratic here, not exponential: a far longer input makes the point.
    const spaces = ' '.repeat(1_000_000);
    expect(decide('p := trim_space(input.s)', { s: `${spaces}x${spaces}y${spaces}` })).toBe(`x${spaces}y`);
  });
});
