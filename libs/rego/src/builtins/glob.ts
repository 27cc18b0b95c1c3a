/**
 * OPA v1/topdown/glob.go: glob.match and glob.quote_meta, with the syntax of gobwas/glob v0.2.3
 * (the version OPA pins). `*` matches any run of non-delimiter characters, `**` any run at all,
 * `?` one non-delimiter character, `[abc]`/`[!abc]`/`[a-z]`/`[!a-z]` one character (delimiters
 * included), `{a,b}` alternatives, `\` escapes. Delimiters default to "." when the list is
 * empty; null means none.
 *
 * A glob denotes a regular language, so it is compiled to an RE2 pattern and matched by the same
 * linear-time engine as the regex built-ins: `*a*a*a*b` against a long run of `a`s costs one
 * pass over the input, not the exponential backtracking a JS RegExp would do.
 */
import { RE2JS } from 're2js';
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { LruCache } from './lru-cache';
import { def, elemErr, stringArg, typeErr } from './utils';
import { RegoSet, type Value } from '../value';

type GlobNode =
  | { readonly kind: 'text'; readonly runes: readonly number[] }
  | { readonly kind: 'any' }
  | { readonly kind: 'super' }
  | { readonly kind: 'single' }
  | { readonly kind: 'list'; readonly runes: readonly number[]; readonly not: boolean }
  | { readonly kind: 'range'; readonly lo: number; readonly hi: number; readonly not: boolean }
  | { readonly kind: 'anyOf'; readonly alternatives: ReadonlyArray<readonly GlobNode[]> };

const ESCAPE = 0x5c; // \
const BREAKERS = new Set([0x3f, 0x2a, 0x5b, 0x7b]); // ? * [ {
const TERM_BREAKERS = new Set([...BREAKERS, 0x7d, 0x2c]); // and } ,

/** Parses a glob the way gobwas/glob v0.2.3's lexer and parser do, errors in their words. */
class GlobParser {
  private pos = 0;
  private readonly runes: readonly number[];

  constructor(pattern: string) {
    this.runes = Array.from(pattern, (c) => c.codePointAt(0)!);
  }

  parse(): GlobNode[] {
    return this.sequence(false);
  }

  private peek(): number | undefined {
    return this.runes[this.pos];
  }

  private sequence(inTerms: boolean): GlobNode[] {
    const nodes: GlobNode[] = [];
    for (;;) {
      const r = this.peek();
      if (r === undefined) return nodes;
      if (inTerms && (r === 0x2c || r === 0x7d)) return nodes;
      if (r === 0x7b) {
        this.pos++;
        nodes.push(this.alternatives());
      } else if (r === 0x5b) {
        this.pos++;
        nodes.push(this.characterClass());
      } else if (r === 0x3f) {
        this.pos++;
        nodes.push({ kind: 'single' });
      } else if (r === 0x2a) {
        this.pos++;
        if (this.peek() === 0x2a) {
          this.pos++;
          nodes.push({ kind: 'super' });
        } else nodes.push({ kind: 'any' });
      } else {
        nodes.push({ kind: 'text', runes: this.text(inTerms ? TERM_BREAKERS : BREAKERS) });
      }
    }
  }

  /** `{a,b,...}`; v0.2.3 accepts a group left open at the end of the pattern. */
  private alternatives(): GlobNode {
    const alternatives: GlobNode[][] = [];
    for (;;) {
      alternatives.push(this.sequence(true));
      const r = this.peek();
      this.pos++;
      if (r !== 0x2c) break;
    }
    return { kind: 'anyOf', alternatives };
  }

  /** Literal runes up to a breaker; `\` escapes one rune, a trailing `\` is dropped. */
  private text(breakers: ReadonlySet<number>): number[] {
    const out: number[] = [];
    let escaped = false;
    for (let r = this.peek(); r !== undefined; r = this.peek()) {
      if (!escaped) {
        if (r === ESCAPE) {
          escaped = true;
          this.pos++;
          continue;
        }
        if (breakers.has(r)) break;
      }
      escaped = false;
      out.push(r);
      this.pos++;
    }
    return out;
  }

  /** After `[`: optional `!`, then either one range `a-z` or a list of runes, then `]`. */
  private characterClass(): GlobNode {
    const end = (): BuiltinError => new BuiltinError('unexpected end of input');
    let not = false;
    if (this.peek() === 0x21) {
      not = true;
      this.pos++;
    }
    const first = this.peek();
    if (first === undefined) throw end();
    if (this.runes[this.pos + 1] === 0x2d) {
      const lo = first;
      const hi = this.runes[this.pos + 2];
      if (hi === undefined) throw end();
      const close = this.runes[this.pos + 3];
      if (close === undefined) throw end();
      if (close !== 0x5d) throw new BuiltinError('expected close range character');
      this.pos += 4;
      if (hi < lo) {
        throw new BuiltinError(`hi character '${String.fromCodePoint(hi)}' should be greater than lo '${String.fromCodePoint(lo)}'`);
      }
      return { kind: 'range', lo, hi, not };
    }
    const runes = this.text(new Set([0x5d]));
    if (this.peek() === undefined) throw end();
    this.pos++;
    if (runes.length === 0) throw new BuiltinError('could not parse range');
    return { kind: 'list', runes, not };
  }
}

/** A rune as an RE2 literal that means itself inside and outside a class. */
function literal(r: number): string {
  const isWord = (r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a) || r === 0x5f;
  return isWord ? String.fromCharCode(r) : `\\x{${r.toString(16)}}`;
}

function toRe2(nodes: readonly GlobNode[], delimiters: readonly number[]): string {
  const notDelimiter = delimiters.length === 0 ? '.' : `[^${delimiters.map(literal).join('')}]`;
  let out = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out += n.runes.map(literal).join('');
        break;
      case 'any':
        out += notDelimiter + '*';
        break;
      case 'super':
        out += '.*';
        break;
      case 'single':
        out += notDelimiter;
        break;
      case 'list':
        out += `[${n.not ? '^' : ''}${n.runes.map(literal).join('')}]`;
        break;
      case 'range':
        out += `[${n.not ? '^' : ''}${literal(n.lo)}-${literal(n.hi)}]`;
        break;
      case 'anyOf':
        out += `(?:${n.alternatives.map((a) => toRe2(a, delimiters)).join('|')})`;
        break;
    }
  }
  return out;
}

const GLOB_CACHE_SIZE = 500;
const cache = new LruCache<RE2JS>(GLOB_CACHE_SIZE);

/** Compiles a glob for the given delimiter runes (cached, as OPA caches compiled globs). */
export function compileGlob(pattern: string, delimiters: readonly number[]): RE2JS {
  const delims = delimiters.map((c) => String.fromCodePoint(c)).join('');
  // Length-prefixed, so no (delimiters, pattern) pair can collide with another.
  return cache.getOrCreate(`${delims.length}:${delims}${pattern}`, () => {
    const nodes = new GlobParser(pattern).parse();
    // (?s): `.` covers newlines too; the whole input must match (testExact anchors both ends).
    return RE2JS.compile('(?s)' + toRe2(nodes, delimiters));
  });
}

function delimiterRunes(d: Value): number[] {
  if (d === null) return [];
  if (!Array.isArray(d) && !(d instanceof RegoSet)) throw typeErr(2, d, 'array', 'null');
  const items: readonly Value[] = Array.isArray(d) ? (d as readonly Value[]) : d.sorted();
  if (items.length === 0) return [0x2e];
  const runes: number[] = [];
  for (const x of items) {
    if (typeof x !== 'string') throw elemErr(2, d, x, 'string');
    for (const c of x) runes.push(c.codePointAt(0)!);
  }
  return runes;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'glob.match', 3, (args) => {
    const pattern = stringArg(args, 0);
    const delimiters = delimiterRunes(args[1]!);
    return compileGlob(pattern, delimiters).testExact(stringArg(args, 2));
  });
  def(r, 'glob.quote_meta', 1, (args) => stringArg(args, 0).replace(/[*?\\[\]{}]/g, '\\$&'));
}
