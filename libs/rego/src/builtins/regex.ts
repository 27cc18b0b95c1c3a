/** OPA v1/topdown/regex.go: regex.* built-ins on Go RE2 syntax (translated in re2.ts). */
import type { BuiltinRegistry } from './registry';
import { compileGoRegex } from './re2';
import { globsMatch } from './regex-globs';
import { def, intArg, stringArg } from './utils';
import type { Value } from '../value';

/**
 * Go's FindAll: successive non-overlapping matches; an empty match right after the previous
 * match is skipped. Returns [start, end, ...groups] index tuples.
 */
function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && (n < 0 || out.length < n)) {
    g.lastIndex = pos;
    const m = g.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    if (end === start && start === prevEnd) {
      // Skip an empty match abutting the previous one: advance one code point.
      pos = start + (s.codePointAt(start)! > 0xffff ? 2 : 1);
      if (start >= s.length) break;
      continue;
    }
    out.push(m);
    prevEnd = end;
    pos = end === start ? end + (s.codePointAt(end) !== undefined && s.codePointAt(end)! > 0xffff ? 2 : 1) : end;
  }
  return out;
}

/** Go's Regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_all, tok: string, braced?: string, bare?: string) => {
    if (tok === '$') return '$';
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

export function register(r: BuiltinRegistry): void {
  def(r, 'regex.match', 2, (args) => compileGoRegex(stringArg(args, 0)).test(stringArg(args, 1)));
  def(r, 'regex.is_valid', 1, ([p]) => {
    if (typeof p !== 'string') return false;
    try {
      compileGoRegex(p);
      return true;
    } catch {
      return false;
    }
  });
  def(r, 'regex.find_n', 3, (args) => {
    const re = compileGoRegex(stringArg(args, 0));
    const s = stringArg(args, 1);
    const n = intArg(args, 2);
    return findAll(re, s, n).map((m) => m[0]);
  });
  def(r, 'regex.find_all_string_submatch_n', 3, (args) => {
    const re = compileGoRegex(stringArg(args, 0));
    const s = stringArg(args, 1);
    const n = intArg(args, 2);
    return findAll(re, s, n).map((m): Value[] => [...m].map((g) => g ?? ''));
  });
  def(r, 'regex.split', 2, (args) => {
    const re = compileGoRegex(stringArg(args, 0));
    const s = stringArg(args, 1);
    if (re.source !== '(?:)' && s === '') return [''];
    const out: string[] = [];
    let beg = 0;
    let end = 0;
    for (const m of findAll(re, s, -1)) {
      end = m.index;
      const mEnd = m.index + m[0].length;
      if (mEnd !== 0) out.push(s.slice(beg, end));
      beg = mEnd;
    }
    if (end !== s.length) out.push(s.slice(beg));
    return out;
  });
  def(r, 'regex.replace', 3, (args) => {
    const s = stringArg(args, 0);
    const re = compileGoRegex(stringArg(args, 1));
    const repl = stringArg(args, 2);
    let out = '';
    let last = 0;
    for (const m of findAll(re, s, -1)) {
      out += s.slice(last, m.index) + expand(repl, m);
      last = m.index + m[0].length;
    }
    return out + s.slice(last);
  });
  def(r, 'regex.template_match', 4, (args) => {
    const template = stringArg(args, 0);
    const value = stringArg(args, 1);
    const open = stringArg(args, 2);
    const close = stringArg(args, 3);
    return compileGoRegex(templateToRegex(template, open, close)).test(value);
  });
  def(r, 'regex.globs_match', 2, (args) => globsMatch(stringArg(args, 0), stringArg(args, 1)));
}

/**
 * OPA's regex.template_match (gorilla/mux style): text between the delimiters is a regular
 * expression, the rest is literal; the whole value must match.
 */
function templateToRegex(template: string, open: string, close: string): string {
  let out = '^';
  let i = 0;
  while (i < template.length) {
    const s = template.indexOf(open, i);
    if (s < 0) {
      out += quoteMeta(template.slice(i));
      break;
    }
    // Find the matching close delimiter, allowing nested braces.
    let depth = 0;
    let j = s;
    let e = -1;
    while (j < template.length) {
      if (template.startsWith(open, j)) {
        depth++;
        j += open.length;
      } else if (template.startsWith(close, j)) {
        depth--;
        if (depth === 0) {
          e = j;
          break;
        }
        j += close.length;
      } else j++;
    }
    if (e < 0) throw new Error(`unbalanced braces in "${template}"`);
    out += quoteMeta(template.slice(i, s)) + '(' + template.slice(s + open.length, e) + ')';
    i = e + close.length;
  }
  return out + '$';
}

export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
