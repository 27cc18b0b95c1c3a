/**
 * regex.globs_match: whether two "globs" (OPA's restricted regex syntax: literal runes, `.`,
 * `[...]` sets, `*` and `+` after a token, `\` escapes) match at least one common string.
 * OPA uses yashtewari/glob-intersection; we decide the same question exactly by searching
 * the product of the two automata. Error messages follow that library.
 */
import { BuiltinError } from './registry';

/** `.` or a union of code point intervals, sorted and disjoint: a range costs two numbers, not a set of its runes. */
type CharSet = { readonly kind: 'dot' } | { readonly kind: 'ranges'; readonly ranges: ReadonlyArray<readonly [number, number]> };

function single(r: string): CharSet {
  const c = r.codePointAt(0)!;
  return { kind: 'ranges', ranges: [[c, c]] };
}

function normalize(ranges: Array<[number, number]>): CharSet {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of ranges) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return { kind: 'ranges', ranges: out };
}

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
      const ranges: Array<[number, number]> = [];
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
          ranges.pop();
          ranges.push([lo, hi]);
          prev = undefined;
          continue;
        }
        const c = t.r.codePointAt(0)!;
        ranges.push([c, c]);
        prev = t.r;
      }
      if (!complete) throw invalid(input, i, 'found [ without matching ]');
      tokens.push({ set: normalize(ranges), flag: 'none' });
      continue;
    }
    tokens.push({ set: single(r), flag: 'none' });
  }
  return tokens;
}

function intersects(a: CharSet, b: CharSet): boolean {
  if (a.kind === 'dot' || b.kind === 'dot') return true;
  // Both sorted and disjoint: walk them together.
  let i = 0;
  let j = 0;
  while (i < a.ranges.length && j < b.ranges.length) {
    const ra = a.ranges[i]!;
    const rb = b.ranges[j]!;
    if (ra[0] <= rb[1] && rb[0] <= ra[1]) return true;
    if (ra[1] < rb[1]) i++;
    else j++;
  }
  return false;
}

/**
 * NFA over token positions: at position i with a star token we may skip it; a plus token is
 * a consuming step into its own star loop. State: pos * 2 + (inLoop ? 1 : 0), where inLoop
 * means the plus token at pos has been consumed once; the accepting state is length * 2.
 * Flat arrays per state, since the search below visits up to |g1| * |g2| pairs of them.
 */
class GlobNfa {
  readonly accept: number;
  /** 1 when the state may move to the next position without consuming a rune. */
  readonly skippable: Uint8Array;
  /** Where the state's one consuming step leads; -1 for the accepting state. */
  readonly next: Int32Array;
  /** The rune set that step reads. */
  readonly reads: ReadonlyArray<CharSet | undefined>;

  constructor(tokens: readonly Token[]) {
    this.accept = tokens.length << 1;
    const size = this.accept + 2;
    this.skippable = new Uint8Array(size);
    this.next = new Int32Array(size).fill(-1);
    const reads: Array<CharSet | undefined> = new Array<CharSet | undefined>(size).fill(undefined);
    tokens.forEach((t, pos) => {
      for (const s of [pos << 1, (pos << 1) | 1]) {
        this.skippable[s] = t.flag === 'star' || (s & 1) === 1 ? 1 : 0;
        this.next[s] = t.flag === 'none' ? (pos + 1) << 1 : t.flag === 'star' ? pos << 1 : (pos << 1) | 1;
        reads[s] = t.set;
      }
    });
    this.reads = reads;
  }
}

/** Product automata beyond this many states (a 2 MiB bitmap) are refused, not searched for seconds. */
const MAX_PRODUCT_STATES = 1 << 24;

/** Marks a pair visited, answering whether it was new. */
function visitor(size: number): (key: number) => boolean {
  const bits = new Uint8Array((size >> 3) + 1);
  return (key) => {
    const i = key >> 3;
    const mask = 1 << (key & 7);
    if ((bits[i]! & mask) !== 0) return false;
    bits[i] = bits[i]! | mask;
    return true;
  };
}

/**
 * Whether some string matches both globs: a search of the product automaton, whose edges are
 * either glob's skip (the other standing still) or a rune both steps can read. Each pair of
 * states is visited once and has at most three edges, so the cost is bounded by the product of
 * the two globs' lengths, whatever their stars.
 */
export function globsMatch(a: string, b: string): boolean {
  const g1 = new GlobNfa(tokenize(a));
  const g2 = new GlobNfa(tokenize(b));
  const width = g2.accept + 2;
  const size = (g1.accept + 2) * width;
  if (size > MAX_PRODUCT_STATES) {
    throw new BuiltinError(`globs too long to intersect: ${g1.accept >> 1} and ${g2.accept >> 1} tokens`);
  }
  const firstVisit = visitor(size);
  const accept = g1.accept * width + g2.accept;
  const stack: number[] = [];
  const reach = (x: number, y: number): void => {
    const key = x * width + y;
    if (firstVisit(key)) stack.push(key);
  };
  reach(0, 0);
  while (stack.length) {
    const key = stack.pop()!;
    if (key === accept) return true;
    const y = key % width;
    const x = (key - y) / width;
    if (g1.skippable[x] === 1) reach(((x >> 1) + 1) << 1, y);
    if (g2.skippable[y] === 1) reach(x, ((y >> 1) + 1) << 1);
    const sx = g1.reads[x];
    const sy = g2.reads[y];
    if (sx && sy && intersects(sx, sy)) reach(g1.next[x]!, g2.next[y]!);
  }
  return false;
}
