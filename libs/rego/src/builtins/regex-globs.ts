/**
 * regex.globs_match: whether two "globs" (OPA's restricted regex syntax: literal runes, `.`,
 * `[...]` sets, `*` and `+` after a token, `\` escapes) match at least one common string.
 * OPA uses yashtewari/glob-intersection; we decide the same question exactly by searching
 * the product of the two automata. Error messages follow that library.
 */
import { BuiltinError } from './registry';

type CharSet = { kind: 'char'; r: string } | { kind: 'dot' } | { kind: 'set'; runes: Set<string> };
interface Token {
  readonly set: CharSet;
  flag: 'none' | 'plus' | 'star';
}

function invalid(input: string, pos: number, msg: string): BuiltinError {
  return new BuiltinError(`input:${input}, pos:${pos}, ${msg}: the input provided is invalid`);
}

function tokenize(input: string): Token[] {
  const rs = Array.from(input);
  const tokens: Token[] = [];
  let i = 0;
  const next = (): { r: string; escaped: boolean } => {
    if (rs[i] === '\\') {
      if (i === rs.length - 1) throw invalid(input, i, 'input ends with a \\ (escape) character');
      i += 2;
      return { r: rs[i - 1]!, escaped: true };
    }
    i += 1;
    return { r: rs[i - 1]!, escaped: false };
  };
  while (i < rs.length) {
    const { r, escaped } = next();
    if (!escaped && (r === '*' || r === '+')) {
      const prev = tokens[tokens.length - 1];
      if (!prev || prev.flag !== 'none') throw invalid(input, i, `flag '${r}' must be preceded by a non-flag`);
      prev.flag = r === '*' ? 'star' : 'plus';
      continue;
    }
    if (!escaped && r === '.') {
      tokens.push({ set: { kind: 'dot' }, flag: 'none' });
      continue;
    }
    if (!escaped && r === ']') throw invalid(input, i, "set-close ']' with no preceding '['");
    if (!escaped && r === '[') {
      const runes = new Set<string>();
      let prev: string | undefined;
      let complete = false;
      while (i < rs.length) {
        const t = next();
        if (!t.escaped && t.r === ']') {
          complete = true;
          break;
        }
        if (!t.escaped && t.r === '-') {
          if (prev === undefined) throw invalid(input, i, "range character '-' must be preceded by a Unicode character");
          if (i >= rs.length) throw invalid(input, i, "range character '-' must be followed by a Unicode character");
          const end = next();
          if (!end.escaped && (end.r === ']' || end.r === '-')) {
            throw invalid(input, i, "range character '-' cannot be followed by a special symbol");
          }
          const lo = prev.codePointAt(0)!;
          const hi = end.r.codePointAt(0)!;
          if (hi < lo) throw invalid(input, i, `range is out of order: '${end.r}' comes before '${prev}' in Unicode`);
          for (let c = lo; c <= hi; c++) runes.add(String.fromCodePoint(c));
          prev = undefined;
          continue;
        }
        runes.add(t.r);
        prev = t.r;
      }
      if (!complete) throw invalid(input, i, 'found [ without matching ]');
      tokens.push({ set: { kind: 'set', runes }, flag: 'none' });
      continue;
    }
    tokens.push({ set: { kind: 'char', r }, flag: 'none' });
  }
  return tokens;
}

function intersects(a: CharSet, b: CharSet): boolean {
  if (a.kind === 'dot' || b.kind === 'dot') return true;
  if (a.kind === 'char' && b.kind === 'char') return a.r === b.r;
  if (a.kind === 'char') return (b as { runes: Set<string> }).runes.has(a.r);
  if (b.kind === 'char') return a.runes.has(b.r);
  for (const r of a.runes) if (b.runes.has(r)) return true;
  return false;
}

/**
 * NFA over token positions: at position i with a star token we may skip it; a plus token is
 * a consuming step into its own star loop. State: [pos, inLoop] where inLoop means the plus
 * token at pos has been consumed once.
 */
type State = number; // pos * 2 + (inLoop ? 1 : 0)

function closure(g: Token[], s: State): State[] {
  const out: State[] = [];
  const stack = [s];
  const seen = new Set<State>();
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    out.push(x);
    const pos = x >> 1;
    const loop = (x & 1) === 1;
    const t = g[pos];
    if (t && (t.flag === 'star' || loop)) stack.push((pos + 1) << 1);
  }
  return out;
}

function steps(g: Token[], s: State): Array<[CharSet, State]> {
  const pos = s >> 1;
  const t = g[pos];
  if (!t) return [];
  if (t.flag === 'none') return [[t.set, (pos + 1) << 1]];
  if (t.flag === 'star') return [[t.set, pos << 1]];
  return [[t.set, (pos << 1) | 1]];
}

export function globsMatch(a: string, b: string): boolean {
  const g1 = tokenize(a);
  const g2 = tokenize(b);
  const end1 = g1.length << 1;
  const end2 = g2.length << 1;
  const seen = new Set<string>();
  const queue: Array<[State, State]> = [[0, 0]];
  while (queue.length) {
    const [x, y] = queue.pop()!;
    for (const cx of closure(g1, x)) {
      for (const cy of closure(g2, y)) {
        if (cx === end1 && cy === end2) return true;
        const key = `${cx},${cy}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const [sx, nx] of steps(g1, cx)) {
          for (const [sy, ny] of steps(g2, cy)) {
            if (intersects(sx, sy)) queue.push([nx, ny]);
          }
        }
      }
    }
  }
  return false;
}
