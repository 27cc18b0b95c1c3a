/** GraphQL lexer shaped after vektah/gqlparser's, so error texts and positions match. */
export type Kind =
  | 'Invalid' | 'EOF' | '!' | '$' | '&' | '(' | ')' | '...' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}'
  | 'Name' | 'Int' | 'Float' | 'String' | 'BlockString';

export interface Token {
  readonly kind: Kind;
  readonly value: string;
  readonly line: number;
  readonly col: number;
  /** The lexer's own message for an Invalid token, raised only if the parser consumes it. */
  readonly error?: string;
}

/** gqlparser's Kind.String(). */
export function kindString(k: Kind): string {
  return k === 'Invalid' ? '<Invalid>' : k === 'EOF' ? '<EOF>' : k;
}

/** gqlparser's Token.String(): kind, then the quoted value when there is one. */
export function tokenString(t: Token): string {
  return t.value !== '' ? `${kindString(t.kind)} ${JSON.stringify(t.value)}` : kindString(t.kind);
}

export class GraphQLError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

const PUNCT = new Set(['!', '$', '&', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}']);

/**
 * gqlparser's blockStringValue. Unlike the spec's algorithm, its common indent counts the first
 * line too, so `"""a\n  b"""` keeps b's indent; blank means spaces and tabs only.
 */
function blockValue(raw: string): string {
  const lines = raw.split('\n');
  const blank = (l: string): boolean => /^[ \t]*$/.test(l);
  let common = Infinity;
  for (const l of lines) {
    if (blank(l)) continue;
    common = Math.min(common, l.length - l.replace(/^[ \t]*/, '').length);
    if (common === 0) break;
  }
  if (common !== Infinity) for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(common);
  while (lines.length && blank(lines[0]!)) lines.shift();
  while (lines.length && blank(lines[lines.length - 1]!)) lines.pop();
  return lines.join('\n');
}

/**
 * Columns count code points, as gqlparser counts runes; for all-BMP input that is the UTF-16
 * offset, so the per-offset table is only built when the source has surrogate pairs.
 */
function runeIndex(src: string): (i: number) => number {
  if (!/[\ud800-\udbff]/.test(src)) return (i) => i;
  const at = new Int32Array(src.length + 1);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    at[i] = n;
    const c = src.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  at[src.length] = n;
  return (i) => at[i]!;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const u4 = (c: number): string => `"\\u${String(c).padStart(4, '0')}"`;

/**
 * Lexes the whole source. Like gqlparser's ReadToken, a lexing failure yields one Invalid token
 * placed where the scan stopped (its message kept in `error`); no token follows it.
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const rune = runeIndex(src);
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number): number => rune(at) - rune(lineStart) + 1;
  const push = (kind: Kind, value: string, at: number): void => {
    out.push({ kind, value, line, col: col(at) });
  };
  const invalid = (at: number, error: string): Token[] => {
    out.push({ kind: 'Invalid', value: '', line, col: col(at), error });
    return out;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === ',' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#') {
      // A comment runs over source characters: tabs and everything from U+0020 up.
      i++;
      while (i < src.length && (src.charCodeAt(i) > 0x1f || src[i] === '\t')) i++;
      continue;
    }
    const start = i;
    if (PUNCT.has(c)) {
      push(c as Kind, '', start);
      i++;
      continue;
    }
    if (c === '.' && src.startsWith('...', i)) {
      push('...', '', start);
      i += 3;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      push('Name', src.slice(i, j), start);
      i = j;
      continue;
    }
    if (c === '-' || isDigit(c)) {
      let j = i;
      const next = (): string => (j < src.length ? `"${src[j]}"` : '<EOF>');
      const digits = (): number => {
        const from = j;
        while (isDigit(src[j])) j++;
        return j - from;
      };
      if (src[j] === '-') j++;
      if (src[j] === '0') {
        j++;
        const from = j;
        if (digits() !== 0) {
          j = from;
          return invalid(j, `Invalid number, unexpected digit after 0: ${next()}.`);
        }
      } else if (digits() === 0) return invalid(j, `Invalid number, expected digit but got: ${next()}.`);
      let float = false;
      if (src[j] === '.') {
        j++;
        float = true;
        if (digits() === 0) return invalid(j, `Invalid number, expected digit but got: ${next()}.`);
      }
      if (src[j] === 'e' || src[j] === 'E') {
        j++;
        float = true;
        if (src[j] === '-' || src[j] === '+') j++;
        if (digits() === 0) return invalid(j, `Invalid number, expected digit but got: ${next()}.`);
      }
      push(float ? 'Float' : 'Int', src.slice(i, j), start);
      i = j;
      continue;
    }
    if (src.startsWith('"""', i)) {
      let j = i + 3;
      let raw = '';
      // gqlparser positions string tokens at their content, after the quotes.
      const at = { line, col: col(j) };
      for (;;) {
        if (j >= src.length) return invalid(j, 'Unterminated string.');
        const ch = src[j]!;
        if (src.startsWith('"""', j)) break;
        const code = src.charCodeAt(j);
        if (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') return invalid(j, `Invalid character within String: ${u4(code)}.`);
        if (src.startsWith('\\"""', j)) {
          raw += '"""';
          j += 4;
        } else if (ch === '\r' || ch === '\n') {
          j += ch === '\r' && src[j + 1] === '\n' ? 2 : 1;
          raw += '\n';
          line++;
          lineStart = j;
        } else {
          raw += ch;
          j++;
        }
      }
      out.push({ kind: 'BlockString', value: blockValue(raw), line: at.line, col: at.col });
      i = j + 3;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= src.length || src[j] === '\n' || src[j] === '\r') return invalid(j, 'Unterminated string.');
        const ch = src[j]!;
        const code = src.charCodeAt(j);
        if (code < 0x20 && ch !== '\t') return invalid(j, `Invalid character within String: ${u4(code)}.`);
        if (ch === '"') break;
        if (ch !== '\\') {
          value += ch;
          j++;
          continue;
        }
        const esc = src[j + 1];
        if (esc === undefined) return invalid(j + 1, 'Invalid character escape sequence.');
        if (esc === 'u') {
          const hex = src.slice(j + 2, j + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return invalid(j + 1, `Invalid character escape sequence: \\${src.slice(j + 1, j + 6)}.`);
          value += String.fromCharCode(parseInt(hex, 16));
          j += 6;
          continue;
        }
        const simple: Record<string, string> = { '"': '"', '/': '/', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (!(esc in simple)) return invalid(j + 1, `Invalid character escape sequence: \\${esc}.`);
        value += simple[esc]!;
        j += 2;
      }
      push('String', value, start + 1);
      i = j + 1;
      continue;
    }
    const code = src.charCodeAt(i);
    if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') return invalid(start, `Cannot contain the invalid character ${u4(code)}`);
    if (c === "'") return invalid(start, `Unexpected single quote character ('), did you mean to use a double quote (")?`);
    return invalid(start, `Cannot parse the unexpected character "${String.fromCodePoint(src.codePointAt(i)!)}".`);
  }
  out.push({ kind: 'EOF', value: '', line, col: col(i) });
  return out;
}
