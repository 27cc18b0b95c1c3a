/** OPA v1/topdown/strings.go: string built-ins, with Go's rune (code point) semantics. */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { goSprintf, toFmtArg } from './format';
import { renderTemplate } from './template';
import { def, elemErr, intArg, numberArg, objectArg, operandErr, runes, stringArg, stringsArg, typeErr } from './utils';
import { RegoSet, toBigInt, toDouble, type Value } from '../value';

/** Go's unicode.IsSpace: all in the BMP, so each is one UTF-16 unit. */
const SPACES = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/**
 * strings.TrimSpace by scanning from both ends: a `\s+$`-style RegExp retries from every
 * position of an inner run of spaces, which is quadratic in attacker-sized input.
 */
function trimSpace(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && SPACES.has(s.charCodeAt(i))) i++;
  while (j > i && SPACES.has(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

function stringOrStrings(args: readonly Value[], i: number): string[] {
  const v = args[i]!;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) || v instanceof RegoSet) return stringsArg(args, i);
  throw typeErr(i + 1, v, 'string', 'set', 'array');
}

/** Go's strings.Trim family: the cutset is a set of code points. */
function trimLeftSet(s: string, cutset: string): string {
  const cut = new Set(runes(cutset));
  const r = runes(s);
  let i = 0;
  while (i < r.length && cut.has(r[i]!)) i++;
  return r.slice(i).join('');
}
function trimRightSet(s: string, cutset: string): string {
  const cut = new Set(runes(cutset));
  const r = runes(s);
  let j = r.length;
  while (j > 0 && cut.has(r[j - 1]!)) j--;
  return r.slice(0, j).join('');
}

/** Go's strings.Replacer with old/new pairs: leftmost match, earlier pair wins at a position. */
function replaceAll(s: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 1) {
    const [o, n] = pairs[0]!;
    if (o === '') return goReplaceEmpty(s, n);
    return s.split(o).join(n);
  }
  let out = '';
  let i = 0;
  while (i <= s.length) {
    let matched = false;
    for (const [o, n] of pairs) {
      if (o === '' ? true : s.startsWith(o, i)) {
        if (o === '') {
          // An empty old string matches between every rune (Go's generic replacer).
          out += n;
          if (i < s.length) {
            const cp = String.fromCodePoint(s.codePointAt(i)!);
            out += cp;
            i += cp.length;
          } else i++;
        } else {
          out += n;
          i += o.length;
        }
        matched = true;
        break;
      }
    }
    if (!matched) {
      if (i < s.length) out += s[i];
      i++;
    }
  }
  return out;
}

/**
 * Go maps case rune by rune (unicode.ToUpper): no special casing, so "ß" stays "ß" where
 * JS would answer "SS". ASCII takes the fast native path.
 */
function caseMap(s: string, up: boolean): string {
  const native = up ? s.toUpperCase() : s.toLowerCase();
  // eslint-disable-next-line no-control-regex -- ASCII range check
  if (/^[\x00-\x7f]*$/.test(s)) return native;
  let out = '';
  for (const ch of s) {
    const m = up ? ch.toUpperCase() : ch.toLowerCase();
    out += Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

function goReplaceEmpty(s: string, n: string): string {
  return n + runes(s).map((c) => c + n).join('');
}

export function register(r: BuiltinRegistry): void {
  def(r, 'strings.any_prefix_match', 2, (args) => {
    const strs = stringOrStrings(args, 0);
    const prefixes = stringOrStrings(args, 1);
    return strs.some((s) => prefixes.some((p) => s.startsWith(p)));
  });
  def(r, 'strings.any_suffix_match', 2, (args) => {
    const strs = stringOrStrings(args, 0);
    const suffixes = stringOrStrings(args, 1);
    return strs.some((s) => suffixes.some((p) => s.endsWith(p)));
  });
  def(r, 'format_int', 2, (args) => {
    const n = numberArg(args, 0);
    const base = numberArg(args, 1);
    const b = toDouble(base);
    if (b !== 2 && b !== 8 && b !== 10 && b !== 16) {
      throw operandErr(2, 'must be one of {2, 8, 10, 16}');
    }
    // Go truncates toward zero (big.Float.Int).
    const i = toBigInt(n) ?? BigInt(Math.trunc(toDouble(n)));
    return i.toString(b);
  });
  def(r, 'concat', 2, (args) => {
    const sep = stringArg(args, 0);
    const v = args[1]!;
    const items = Array.isArray(v) ? (v as readonly Value[]) : v instanceof RegoSet ? v.sorted() : undefined;
    if (!items) throw typeErr(2, v, 'set', 'array');
    return items
      .map((x) => {
        if (typeof x !== 'string') throw elemErr(2, v, x, 'string');
        return x;
      })
      .join(sep);
  });
  def(r, 'indexof', 2, (args) => {
    const base = stringArg(args, 0);
    const search = stringArg(args, 1);
    if (search === '') throw new BuiltinError('empty search character');
    const at = base.indexOf(search);
    if (at < 0) return -1;
    return runes(base.slice(0, at)).length;
  });
  def(r, 'indexof_n', 2, (args) => {
    const base = runes(stringArg(args, 0));
    const search = runes(stringArg(args, 1));
    if (search.length === 0) throw new BuiltinError('empty search character');
    const out: number[] = [];
    for (let i = 0; i + search.length <= base.length; i++) {
      let ok = true;
      for (let j = 0; j < search.length && ok; j++) ok = base[i + j] === search[j];
      if (ok) out.push(i);
    }
    return out;
  });
  def(r, 'substring', 3, (args) => {
    const base = stringArg(args, 0);
    const start = intArg(args, 1);
    const length = intArg(args, 2);
    if (start < 0) throw new BuiltinError('negative offset');
    const rs = runes(base);
    if (start >= rs.length) return '';
    return (length < 0 ? rs.slice(start) : rs.slice(start, start + length)).join('');
  });
  def(r, 'contains', 2, (args) => stringArg(args, 0).includes(stringArg(args, 1)));
  def(r, 'strings.count', 2, (args) => {
    const s = stringArg(args, 0);
    const sub = stringArg(args, 1);
    if (sub === '') return runes(s).length + 1;
    return s.split(sub).length - 1;
  });
  def(r, 'startswith', 2, (args) => stringArg(args, 0).startsWith(stringArg(args, 1)));
  def(r, 'endswith', 2, (args) => stringArg(args, 0).endsWith(stringArg(args, 1)));
  def(r, 'lower', 1, (args) => caseMap(stringArg(args, 0), false));
  def(r, 'upper', 1, (args) => caseMap(stringArg(args, 0), true));
  def(r, 'split', 2, (args) => {
    const s = stringArg(args, 0);
    const d = stringArg(args, 1);
    // Go's strings.Split with an empty separator splits into runes.
    if (d === '') return runes(s);
    return s.split(d);
  });
  def(r, 'replace', 3, (args) => {
    const s = stringArg(args, 0);
    const o = stringArg(args, 1);
    const n = stringArg(args, 2);
    return replaceAll(s, [[o, n]]);
  });
  def(r, 'strings.replace_n', 2, (args) => {
    const patterns = objectArg(args, 0);
    const s = stringArg(args, 1);
    const pairs: Array<[string, string]> = [];
    for (const k of patterns.sortedKeys()) {
      if (typeof k !== 'string') throw operandErr(1, 'non-string key found in pattern object');
      const v = patterns.get(k)!;
      if (typeof v !== 'string') throw operandErr(1, 'non-string value found in pattern object');
      pairs.push([k, v]);
    }
    return pairs.length === 0 ? s : replaceAll(s, pairs);
  });
  def(r, 'trim', 2, (args) => {
    const cut = stringArg(args, 1);
    return trimRightSet(trimLeftSet(stringArg(args, 0), cut), cut);
  });
  def(r, 'trim_left', 2, (args) => trimLeftSet(stringArg(args, 0), stringArg(args, 1)));
  def(r, 'trim_right', 2, (args) => trimRightSet(stringArg(args, 0), stringArg(args, 1)));
  def(r, 'trim_prefix', 2, (args) => {
    const s = stringArg(args, 0);
    const p = stringArg(args, 1);
    return s.startsWith(p) ? s.slice(p.length) : s;
  });
  def(r, 'trim_suffix', 2, (args) => {
    const s = stringArg(args, 0);
    const p = stringArg(args, 1);
    return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  });
  def(r, 'trim_space', 1, (args) => trimSpace(stringArg(args, 0)));
  def(r, 'sprintf', 2, (args) => {
    const f = stringArg(args, 0);
    const arr = args[1]!;
    if (!Array.isArray(arr)) throw typeErr(2, arr, 'array');
    return goSprintf(f, (arr as readonly Value[]).map(toFmtArg));
  });
  def(r, 'strings.render_template', 2, (args) => renderTemplate(stringArg(args, 0), objectArg(args, 1)));
  def(r, 'strings.reverse', 1, (args) => runes(stringArg(args, 0)).reverse().join(''));
}
