/**
 * Go regexp, as OPA's regex built-ins use it: RE2 syntax matched in time linear in the input.
 * re2js is a port of RE2 (leftmost-first, like Go's regexp), so the syntax and its errors are
 * Go's own and no pattern can make a match backtrack: a decision on attacker-controlled input
 * stays bounded, where a JS RegExp could run for minutes without any chance to interrupt it.
 * Positions here are UTF-16 indices into the JS string; Go's step of one rune after an empty
 * match becomes a step of one code point.
 */
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';
import { BuiltinError } from './registry';
import { LruCache } from './lru-cache';

/** Policies reuse a few patterns; patterns built from input must not grow memory unbounded. */
const REGEX_CACHE_SIZE = 500;
const cache = new LruCache<RE2JS>(REGEX_CACHE_SIZE);

/** Compiles a Go regexp (cached); a bad pattern throws a BuiltinError in Go's words. */
export function compileRegex(pattern: string): RE2JS {
  return cache.getOrCreate(pattern, () => {
    try {
      return RE2JS.compile(pattern);
    } catch (e) {
      if (e instanceof RE2JSSyntaxException) {
        throw new BuiltinError(`error parsing regexp: ${e.error}: \`${e.input ?? ''}\``);
      }
      if (e instanceof RE2JSException) throw new BuiltinError(`error parsing regexp: ${e.message}`);
      throw e;
    }
  });
}

/** Go's regexp.MatchString: whether the pattern matches anywhere in `s`. */
export function regexTest(pattern: string, s: string): boolean {
  return compileRegex(pattern).test(s);
}

export interface RegexMatch {
  readonly start: number;
  readonly end: number;
  /** Group 0 (the match) and each capture group; undefined for a group that did not take part. */
  readonly groups: ReadonlyArray<string | undefined>;
}

/** Width in UTF-16 units of the code point at `i` (one rune in Go's terms). */
function runeWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Go's FindAll (regexp.go allMatches): at most `n` (all when n < 0) successive non-overlapping
 * matches, an empty match abutting the previous match skipped. Capture groups are extracted only
 * when asked for, since that takes a second, slower pass over each match.
 */
export function findAll(re: RE2JS, s: string, n: number, withGroups: boolean): RegexMatch[] {
  const out: RegexMatch[] = [];
  // One pass of the DFA settles the common no-match case before the slower capturing matcher.
  if (n === 0 || !re.test(s)) return out;
  const m = re.matcher(s);
  const groupCount = withGroups ? re.groupCount() : 0;
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && (n < 0 || out.length < n)) {
    if (!m.find(pos)) break;
    const start = m.start();
    const end = m.end();
    let accept = true;
    if (end === pos) {
      if (start === prevEnd) accept = false;
      pos += pos < s.length ? runeWidth(s, pos) : 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (!accept) continue;
    const groups: Array<string | undefined> = [s.slice(start, end)];
    for (let g = 1; g <= groupCount; g++) groups.push(m.group(g) ?? undefined);
    out.push({ start, end, groups });
  }
  return out;
}

/** Go's regexp.QuoteMeta: `s` as a pattern matching exactly `s`. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
