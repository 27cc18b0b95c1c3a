/**
 * OPA v1/topdown/regex.go: regex.* built-ins on Go's RE2 syntax, matched in time linear in the
 * input by regex-engine.ts; regex.globs_match is an automaton search (regex-globs.ts).
 */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { compileRegex, findAll, quoteMeta, regexTest, type RegexMatch } from './regex-engine';
import { globsMatch } from './regex-globs';
import { def, intArg, stringArg } from './utils';
import type { Value } from '../value';

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;
const utf8 = new TextEncoder();
const utf8Length = (s: string): number => utf8.encode(s).length;

/**
 * Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a literal $, a malformed reference leaves
 * the $ as text, a reference to a group that did not match (or does not exist) expands to "".
 * A bare name takes the longest run of letters, digits and underscores ($1x is ${1x}).
 */
function expand(template: string, m: RegexMatch, named: Readonly<Record<string, number>>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const braced = template[i] === '{';
    let j = braced ? i + 1 : i;
    const nameStart = j;
    while (j < template.length) {
      const ch = String.fromCodePoint(template.codePointAt(j)!);
      if (!NAME_CHAR.test(ch)) break;
      j += ch.length;
    }
    const name = template.slice(nameStart, j);
    if (name === '' || (braced && template[j] !== '}')) {
      out += '$';
      continue;
    }
    i = braced ? j + 1 : j;
    // Go reads a group number from up to nine ASCII digits without a leading zero; else a name.
    const index = /^(0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : named[name];
    if (index !== undefined) out += m.groups[index] ?? '';
  }
  return out + template.slice(i);
}

export function register(r: BuiltinRegistry): void {
  def(r, 'regex.match', 2, (args) => regexTest(stringArg(args, 0), stringArg(args, 1)));
  def(r, 'regex.is_valid', 1, ([p]) => {
    if (typeof p !== 'string') return false;
    try {
      compileRegex(p);
      return true;
    } catch {
      return false;
    }
  });
  def(r, 'regex.find_n', 3, (args) => {
    const re = compileRegex(stringArg(args, 0));
    return findAll(re, stringArg(args, 1), intArg(args, 2), false).map((m) => m.groups[0]!);
  });
  def(r, 'regex.find_all_string_submatch_n', 3, (args) => {
    const re = compileRegex(stringArg(args, 0));
    return findAll(re, stringArg(args, 1), intArg(args, 2), true).map((m): Value[] => m.groups.map((g) => g ?? ''));
  });
  def(r, 'regex.split', 2, (args) => {
    const pattern = stringArg(args, 0);
    const re = compileRegex(pattern);
    const s = stringArg(args, 1);
    // Go's Regexp.Split(s, -1).
    if (pattern !== '' && s === '') return [''];
    const out: string[] = [];
    let beg = 0;
    let end = 0;
    for (const m of findAll(re, s, -1, false)) {
      end = m.start;
      if (m.end !== 0) out.push(s.slice(beg, end));
      beg = m.end;
    }
    if (end !== s.length) out.push(s.slice(beg));
    return out;
  });
  def(r, 'regex.replace', 3, (args) => {
    const s = stringArg(args, 0);
    const re = compileRegex(stringArg(args, 1));
    const repl = stringArg(args, 2);
    const named = re.namedGroups();
    let out = '';
    let last = 0;
    for (const m of findAll(re, s, -1, repl.includes('$'))) {
      out += s.slice(last, m.start) + expand(repl, m, named);
      last = m.end;
    }
    return out + s.slice(last);
  });
  def(r, 'regex.template_match', 4, (args) => {
    const template = stringArg(args, 0);
    const value = stringArg(args, 1);
    const open = stringArg(args, 2);
    const close = stringArg(args, 3);
    const startLen = utf8Length(open);
    return regexTest(templateToRegex(template, delimiter('start', open, startLen), delimiter('end', close, startLen)), value);
  });
  def(r, 'regex.globs_match', 2, (args) => globsMatch(stringArg(args, 0), stringArg(args, 1)));
}

/** OPA's check: a delimiter is one byte, and the message reports the start's length for both. */
function delimiter(which: 'start' | 'end', d: string, startLen: number): string {
  if (d.length === 1 && d.charCodeAt(0) < 0x80) return d;
  throw new BuiltinError(`${which} delimiter has to be exactly one character long but is ${startLen} long`);
}

/**
 * OPA's regex.template_match (gorilla/mux's template regexp): text between the delimiters is a
 * regular expression, each of which must compile on its own; the rest is literal, and the
 * whole value must match. Delimiters nest; an unbalanced one is an error.
 */
function templateToRegex(template: string, open: string, close: string): string {
  // Well-formedness first, as OPA checks it before compiling any part.
  const spans: Array<readonly [number, number]> = [];
  let level = 0;
  let varStart = 0;
  for (let i = 0; i < template.length && level >= 0; i++) {
    const c = template[i];
    if (c === open) {
      if (++level === 1) varStart = i;
    } else if (c === close && --level === 0) spans.push([varStart, i]);
  }
  if (level !== 0) throw new BuiltinError(`unbalanced braces in ${JSON.stringify(template)}`);
  let out = '^';
  let literalStart = 0;
  for (const [s, e] of spans) {
    const patt = template.slice(s + 1, e);
    compileRegex(`^${patt}$`);
    out += quoteMeta(template.slice(literalStart, s)) + '(' + patt + ')';
    literalStart = e + 1;
  }
  return out + quoteMeta(template.slice(literalStart)) + '$';
}
