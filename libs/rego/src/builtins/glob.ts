/**
 * OPA v1/topdown/glob.go: glob.match (gobwas/glob semantics) and glob.quote_meta.
 * `*` matches any run of non-delimiter characters, `**` any run at all, `?` one
 * non-delimiter character, `[abc]`/`[!abc]`/`[a-z]` character classes, `{a,b}` alternatives,
 * `\` escapes. Delimiters default to "." when the list is empty; null means none.
 */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, elemErr, stringArg, typeErr } from './utils';
import { RegoSet, type Value } from '../value';

const cache = new Map<string, RegExp>();

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export function globToRegExp(pattern: string, delimiters: readonly string[]): RegExp {
  const key = pattern + '\u0000' + delimiters.join('\u0000');
  const hit = cache.get(key);
  if (hit) return hit;
  const notDelim = delimiters.length === 0 ? '[\\s\\S]' : `[^${delimiters.map(escapeRe).join('')}]`;
  const rs = Array.from(pattern);
  let i = 0;
  const parse = (inAlt: boolean): string => {
    let out = '';
    while (i < rs.length) {
      const c = rs[i]!;
      if (inAlt && (c === ',' || c === '}')) return out;
      if (c === '\\') {
        if (i + 1 >= rs.length) throw new BuiltinError(`unexpected end of input`);
        out += escapeRe(rs[i + 1]!);
        i += 2;
      } else if (c === '*') {
        if (rs[i + 1] === '*') {
          out += '[\\s\\S]*';
          i += 2;
        } else {
          out += notDelim + '*';
          i++;
        }
      } else if (c === '?') {
        out += notDelim;
        i++;
      } else if (c === '[') {
        const close = rs.indexOf(']', i + 1);
        if (close < 0) throw new BuiltinError('unexpected end of input');
        let body = rs.slice(i + 1, close);
        let neg = false;
        if (body[0] === '!') {
          neg = true;
          body = body.slice(1);
        }
        const cls = body.map((ch) => (ch === '-' ? '-' : escapeRe(ch))).join('');
        out += `[${neg ? '^' : ''}${cls}]`;
        i = close + 1;
      } else if (c === '{') {
        i++;
        const alts: string[] = [];
        for (;;) {
          alts.push(parse(true));
          if (i >= rs.length) throw new BuiltinError('unexpected end of input');
          if (rs[i] === '}') {
            i++;
            break;
          }
          i++; // ','
        }
        out += `(?:${alts.join('|')})`;
      } else {
        out += escapeRe(c);
        i++;
      }
    }
    return out;
  };
  const re = new RegExp('^' + parse(false) + '$', 'u');
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'glob.match', 3, (args) => {
    const pattern = stringArg(args, 0);
    const d = args[1]!;
    let delimiters: string[];
    if (d === null) delimiters = [];
    else if (Array.isArray(d) || d instanceof RegoSet) {
      const items: readonly Value[] = Array.isArray(d) ? (d as readonly Value[]) : d.sorted();
      delimiters = items.map((x) => {
        if (typeof x !== 'string') throw elemErr(2, d, x, 'string');
        return x;
      });
      if (delimiters.length === 0) delimiters = ['.'];
    } else throw typeErr(2, d, 'array', 'null');
    const match = stringArg(args, 2);
    return globToRegExp(pattern, delimiters).test(match);
  });
  def(r, 'glob.quote_meta', 1, (args) => stringArg(args, 0).replace(/[*?\\[\]{}]/g, '\\$&'));
}
