/**
 * Go RE2 syntax -> JS RegExp. Go's regexp is leftmost-first like JS's, so the semantics
 * carry over once the syntax is translated: inline flags ((?i), (?s), (?m), also scoped
 * (?i:...) which Node 20 lacks), (?P<name>...), \A \z, \Q...\E, POSIX classes [[:alpha:]],
 * \pL. Patterns are matched on code points (the 'u' flag) when the translation allows it.
 * Compiled patterns are cached: OPA caches them too and policies reuse a few patterns.
 */
import { BuiltinError } from './registry';

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const cache = new Map<string, RegExp>();
const CACHE_MAX = 500;

/** Compiles a Go regexp; throws BuiltinError with Go's message prefix on a bad pattern. */
export function compileGoRegex(pattern: string, extraFlags = ''): RegExp {
  const key = extraFlags + '\u0000' + pattern;
  const hit = cache.get(key);
  if (hit) return hit;
  const re = compileUncached(pattern, extraFlags);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, re);
  return re;
}

function compileUncached(pattern: string, extraFlags: string): RegExp {
  let src: string;
  let flags: string;
  try {
    ({ src, flags } = translate(pattern));
  } catch (e) {
    throw new BuiltinError(`error parsing regexp: ${(e as Error).message}: \`${pattern}\``);
  }
  const all = [...new Set(flags + extraFlags)].join('');
  try {
    return new RegExp(src, all + 'u');
  } catch {
    try {
      return new RegExp(src, all);
    } catch (e) {
      const msg = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
      throw new BuiltinError(`error parsing regexp: ${msg.toLowerCase()}: \`${pattern}\``);
    }
  }
}

function caseFold(ch: string): string {
  const lo = ch.toLowerCase();
  const up = ch.toUpperCase();
  return lo !== up && lo.length === 1 && up.length === 1 ? `[${lo}${up}]` : ch;
}

function translate(p: string): { src: string; flags: string } {
  let flags = '';
  let out = '';
  let i = 0;
  // Scoped case-insensitivity: a stack of flags per group.
  const stack: boolean[] = [];
  let ci = false;
  const n = p.length;
  // Leading global flags, e.g. (?i) or (?is).
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new Error('ungreedy flag not supported');
      flags += f;
    }
    i = lead[0].length;
  }
  while (i < n) {
    const c = p[i]!;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new Error('trailing backslash at end of expression');
      if (d === 'A') {
        out += '(?<![\\s\\S])';
        i += 2;
      } else if (d === 'z') {
        out += '(?![\\s\\S])';
        i += 2;
      } else if (d === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = end < 0 ? p.slice(i + 2) : p.slice(i + 2, end);
        out += lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? n : end + 2;
      } else if ((d === 'p' || d === 'P') && p[i + 2] !== '{') {
        out += `\\${d}{${p[i + 2]}}`;
        i += 3;
      } else if (/[a-zA-Z0-9]/.test(d)) {
        out += '\\' + d;
        i += 2;
      } else {
        // Go allows escaping any punctuation; JS's 'u' mode only some.
        out += /[\^$\\.*+?()[\]{}|/-]/.test(d) ? '\\' + d : d;
        i += 2;
      }
      continue;
    }
    if (c === '[') {
      const { text, next } = translateClass(p, i);
      out += text;
      i = next;
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
        stack.push(ci);
        continue;
      }
      const m = /^\(\?([imsU-]*)(:|\))/.exec(p.slice(i));
      if (m && m[1]!.length > 0) {
        const on = m[1]!.split('-')[0]!;
        const off = m[1]!.split('-')[1] ?? '';
        if (/[msU]/.test(on + off) && m[2] === ':') {
          if (/U/.test(on)) throw new Error('ungreedy flag not supported');
          // s/m inside groups: approximate by global flag.
          flags += on.replace(/[^ms]/g, '');
        }
        if (m[2] === ')') {
          if (on.includes('i')) ci = true;
          if (off.includes('i')) ci = false;
          flags += on.replace(/[^ms]/g, '');
          i += m[0].length;
          continue;
        }
        stack.push(ci);
        if (on.includes('i')) ci = true;
        if (off.includes('i')) ci = false;
        out += '(?:';
        i += m[0].length;
        continue;
      }
      stack.push(ci);
      out += '(';
      i++;
      if (p[i] === '?' && p[i + 1] === ':') {
        out += '?:';
        i += 2;
      }
      continue;
    }
    if (c === ')') {
      if (stack.length === 0) throw new Error('unexpected )');
      ci = stack.pop()!;
      out += ')';
      i++;
      continue;
    }
    if (ci && /\p{L}/u.test(c)) {
      out += caseFold(c);
      i++;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (stack.length > 0) throw new Error('missing closing )');
  return { src: out, flags: [...new Set(flags)].join('') };
}

function translateClass(p: string, start: number): { text: string; next: number } {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  // A leading ] is a literal in Go.
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  while (i < p.length && p[i] !== ']') {
    if (p.startsWith('[:', i)) {
      const end = p.indexOf(':]', i + 2);
      if (end > 0) {
        let name = p.slice(i + 2, end);
        const neg = name.startsWith('^');
        if (neg) name = name.slice(1);
        const cls = POSIX[name];
        if (!cls) throw new Error('invalid character class range');
        if (neg) throw new Error('negated POSIX classes not supported');
        out += cls;
        i = end + 2;
        continue;
      }
    }
    const c = p[i]!;
    if (c === '\\') {
      const d = p[i + 1] ?? '';
      if ((d === 'p' || d === 'P') && p[i + 2] !== '{') {
        out += `\\${d}{${p[i + 2]}}`;
        i += 3;
        continue;
      }
      out += /[a-zA-Z0-9]/.test(d) ? '\\' + d : '\\' + d;
      i += 2;
      continue;
    }
    if (c === '[' || c === '/') {
      out += '\\' + c;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (i >= p.length) throw new Error('missing closing ]');
  return { text: out + ']', next: i + 1 };
}
