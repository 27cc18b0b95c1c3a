import { RegoError } from '../errors';
import type { Token } from './token';

const PUNCT3: readonly string[] = [];
const PUNCT2 = [':=', '==', '!=', '<=', '>='];
const PUNCT1 = '{}[]().,;:=<>+-*/%&|';

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Splits Rego source into tokens; comments are dropped, newlines kept as `nl`. */
/** A `#` comment: kept aside for METADATA annotations. */
export interface Comment {
  readonly row: number;
  readonly text: string;
}

export function lex(src: string, file: string, comments?: Comment[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  let row = 1;
  let lineStart = 0;
  const fail = (msg: string, r = row, c = i - lineStart + 1): never => {
    throw new RegoError('rego_parse_error', msg, { location: { file, row: r, col: c } });
  };
  while (i < src.length) {
    const c = src[i]!;
    const col = i - lineStart + 1;
    if (c === '\n') {
      out.push({ kind: 'nl', text: '\n', row, col, pos: i, end: i + 1 });
      i++;
      row++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      const start = i + 1;
      while (i < src.length && src[i] !== '\n') i++;
      comments?.push({ row, text: src.slice(start, i) });
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < src.length && (isIdentStart(src[j]!) || isDigit(src[j]!))) j++;
      out.push({ kind: 'ident', text: src.slice(i, j), row, col, pos: i, end: j });
      i = j;
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < src.length && isDigit(src[j]!)) j++;
      if (src[j] === '.' && isDigit(src[j + 1] ?? '')) {
        j++;
        while (j < src.length && isDigit(src[j]!)) j++;
      }
      if (src[j] === 'e' || src[j] === 'E') {
        let k = j + 1;
        if (src[k] === '+' || src[k] === '-') k++;
        if (isDigit(src[k] ?? '')) {
          j = k;
          while (j < src.length && isDigit(src[j]!)) j++;
        }
      }
      out.push({ kind: 'number', text: src.slice(i, j), row, col, pos: i, end: j });
      i = j;
      continue;
    }
    if (c === '"') {
      const [text, end] = readString(src, i, () => fail('non-terminated string'));
      out.push({ kind: 'string', text, row, col, pos: i, end });
      i = end;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('non-terminated raw string');
      const text = src.slice(i + 1, end);
      out.push({ kind: 'rawstring', text, row, col, pos: i, end: end + 1 });
      for (let k = i; k < end; k++) if (src[k] === '\n') {
        row++;
        lineStart = k + 1;
      }
      i = end + 1;
      continue;
    }
    if (c === '$' && (src[i + 1] === '"' || src[i + 1] === '`')) {
      const [tok, end] = readTemplate(src, i, row, col, fail);
      out.push({ ...tok, pos: i, end });
      i = end;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT3.includes(src.slice(i, i + 3))) {
      out.push({ kind: 'punct', text: src.slice(i, i + 3), row, col, pos: i, end: i + 3 });
      i += 3;
      continue;
    }
    if (PUNCT2.includes(two)) {
      out.push({ kind: 'punct', text: two, row, col, pos: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (PUNCT1.includes(c)) {
      out.push({ kind: 'punct', text: c, row, col, pos: i, end: i + 1 });
      i++;
      continue;
    }
    fail(`illegal token ${JSON.stringify(c)}`);
  }
  out.push({ kind: 'eof', text: '', row, col: i - lineStart + 1, pos: i, end: i });
  return out;
}

/** Reads a double-quoted string starting at src[i] == '"'; returns decoded text and end index. */
function readString(src: string, i: number, fail: () => never): [string, number] {
  let j = i + 1;
  while (j < src.length && src[j] !== '"') {
    if (src[j] === '\\') j++;
    if (src[j] === '\n') fail();
    j++;
  }
  if (j >= src.length) fail();
  const raw = src.slice(i, j + 1);
  try {
    // Go's string escapes are a superset of JSON's only for \x.., \a etc.; JSON covers what Rego allows.
    return [JSON.parse(raw) as string, j + 1];
  } catch {
    return fail();
  }
}

function readTemplate(
  src: string,
  i: number,
  row: number,
  col: number,
  fail: (m: string) => never,
): [Token, number] {
  const raw = src[i + 1] === '`';
  const close = raw ? '`' : '"';
  let j = i + 2;
  const parts: Array<{ lit: string } | { src: string; row: number; col: number }> = [];
  let lit = '';
  while (j < src.length && src[j] !== close) {
    const c = src[j]!;
    if (c === '\\' && raw && (src[j + 1] === '{' || src[j + 1] === '}')) {
      // Raw templates keep backslashes, except as the escape of a brace.
      lit += src[j + 1];
      j += 2;
      continue;
    }
    if (c === '\\' && !raw) {
      const n = src[j + 1];
      if (n === '{' || n === '}') {
        lit += n;
        j += 2;
        continue;
      }
      const [s] = readString('"' + src.slice(j, j + (n === 'u' ? 6 : 2)) + '"', 0, () => fail('invalid escape'));
      lit += s;
      j += n === 'u' ? 6 : 2;
      continue;
    }
    if (c === '{') {
      let depth = 1;
      let k = j + 1;
      while (k < src.length && depth > 0) {
        if (src[k] === '{') depth++;
        else if (src[k] === '}') depth--;
        else if (src[k] === '"') {
          k++;
          while (k < src.length && src[k] !== '"') k += src[k] === '\\' ? 2 : 1;
        }
        if (depth > 0) k++;
      }
      if (lit) parts.push({ lit });
      lit = '';
      parts.push({ src: src.slice(j + 1, k), row, col: col + (j - i) + 1 });
      j = k + 1;
      continue;
    }
    lit += c;
    j++;
  }
  if (j >= src.length) fail('non-terminated template string');
  if (lit) parts.push({ lit });
  return [{ kind: 'template', text: src.slice(i, j + 1), row, col, parts, pos: i, end: j + 1 }, j + 1];
}
