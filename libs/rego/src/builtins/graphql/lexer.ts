/** GraphQL lexer shaped after vektah/gqlparser's, so error texts and positions match. */
export type Kind =
  | 'Invalid' | 'EOF' | '!' | '$' | '&' | '(' | ')' | '...' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}'
  | 'Name' | 'Int' | 'Float' | 'String' | 'BlockString';

export interface Token {
  readonly kind: Kind;
  readonly value: string;
  readonly line: number;
  readonly col: number;
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

function blockValue(raw: string): string {
  const lines = raw.replace(/\\"""/g, '"""').split(/\r\n|\n|\r/);
  let common: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const indent = l.length - l.replace(/^[ \t]*/, '').length;
    if (indent < l.length && (common === undefined || indent < common)) common = indent;
  }
  if (common) for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(common);
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.join('\n');
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const push = (kind: Kind, value: string, start: number): void => {
    out.push({ kind, value, line, col: start - lineStart + 1 });
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
      while (i < src.length && src[i] !== '\n' && src[i] !== '\r') i++;
      continue;
    }
    const start = i;
    if (PUNCT.has(c)) {
      push(c as Kind, '', start);
      i++;
      continue;
    }
    if (c === '.') {
      if (src.startsWith('...', i)) {
        push('...', '', start);
        i += 3;
        continue;
      }
      push('Invalid', '', start);
      return out;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      push('Name', src.slice(i, j), start);
      i = j;
      continue;
    }
    if (/[-0-9]/.test(c)) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) {
        push('Invalid', '', start);
        return out;
      }
      push(m[2] || m[3] ? 'Float' : 'Int', m[0], start);
      i += m[0].length;
      continue;
    }
    if (src.startsWith('"""', i)) {
      const end = src.indexOf('"""', i + 3);
      let e = end;
      while (e > 0 && src[e - 1] === '\\') e = src.indexOf('"""', e + 3);
      if (e < 0) {
        // Unterminated: gqlparser reports where its scan stopped, at the end of input.
        for (let k = i + 3; k < src.length; k++) {
          const ch = src[k];
          if (ch === '\n' || (ch === '\r' && src[k + 1] !== '\n')) {
            line++;
            lineStart = k + 1;
          }
        }
        push('Invalid', '', src.length);
        return out;
      }
      const raw = src.slice(i + 3, e);
      // gqlparser positions string tokens at their content, after the quotes.
      push('BlockString', blockValue(raw), start + 3);
      for (const ch of raw) if (ch === '\n') line++;
      const lastNl = raw.lastIndexOf('\n');
      if (lastNl >= 0) lineStart = i + 3 + lastNl + 1;
      i = e + 3;
      continue;
    }
    if (c === '"') {
      const m = /^"((?:[^"\\\n\r]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"/.exec(src.slice(i));
      if (!m) {
        push('Invalid', '', start);
        return out;
      }
      push('String', JSON.parse(m[0]) as string, start + 1);
      i += m[0].length;
      continue;
    }
    push('Invalid', '', start);
    return out;
  }
  out.push({ kind: 'EOF', value: '', line, col: i - lineStart + 1 });
  return out;
}
