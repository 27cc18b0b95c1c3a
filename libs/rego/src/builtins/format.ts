/**
 * Text renderings OPA inherits from Go: Rego's own term syntax (ast.Term.String, used by
 * sprintf for composite operands, print and trace) and a subset of Go's fmt.Sprintf verbs
 * (%v %d %s %q %x %X %o %b %c %e %E %f %F %g %G %t %T %U %%, flags "-+# 0", width, precision).
 */
import { BigNum, RegoObject, RegoSet, numberToString, type Value } from '../value';

/** Rego syntax of a value: strings quoted, sets as {1, 2} or set(), objects {"a": 1}. */
export function termString(v: Value): string {
  switch (typeof v) {
    case 'string':
      return goQuote(v);
    case 'number':
      return numberToString(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v === null) return 'null';
  if (v instanceof BigNum) return v.toString();
  if (Array.isArray(v)) return '[' + (v as readonly Value[]).map(termString).join(', ') + ']';
  if (v instanceof RegoSet) return v.size === 0 ? 'set()' : '{' + v.sorted().map(termString).join(', ') + '}';
  const o = v as RegoObject;
  return '{' + o.sortedEntries().map(([k, x]) => `${termString(k)}: ${termString(x)}`).join(', ') + '}';
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\u0007':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffd) {
      out += c <= 0xffff ? '\\u' + c.toString(16).padStart(4, '0') : '\\U' + c.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + '"';
}

/** An sprintf operand as OPA hands it to Go: int, *big.Int, float64 or string. */
export type FmtArg =
  | { readonly kind: 'int'; readonly v: bigint; readonly big: boolean }
  | { readonly kind: 'float'; readonly v: number }
  | { readonly kind: 'string'; readonly v: string };

/** How OPA's sprintf converts each array element (v1/topdown/strings.go builtinSprintf). */
export function toFmtArg(v: Value): FmtArg {
  if (typeof v === 'string') return { kind: 'string', v };
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { kind: 'int', v: BigInt(v), big: false };
    return { kind: 'float', v };
  }
  if (v instanceof BigNum) {
    // Literal text that is not plain digits goes through float64, then raw text.
    if (v.text === undefined && v.scale === 0) {
      const fitsInt64 = v.int >= -(2n ** 63n) && v.int < 2n ** 63n;
      return { kind: 'int', v: v.int, big: !fitsInt64 };
    }
    const text = v.toString();
    const f = Number(text);
    return Number.isFinite(f) ? { kind: 'float', v: f } : { kind: 'string', v: text };
  }
  return { kind: 'string', v: termString(v) };
}

function goTypeName(a: FmtArg): string {
  if (a.kind === 'int') return a.big ? '*big.Int' : 'int';
  return a.kind === 'float' ? 'float64' : 'string';
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

export function goSprintf(format: string, args: readonly FmtArg[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  const n = format.length;
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    // The common case, a bare ASCII verb (%s, %v, %d): no flags, width or precision to parse.
    const c0 = format.charCodeAt(i);
    if ((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90)) {
      i++;
      const verb = format[i - 1]!;
      out += argi < args.length ? formatOne(verb, PLAIN, args[argi++]!) : `%!${verb}(MISSING)`;
      continue;
    }
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < n; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = true;
      else break;
    }
    let m = /^\d+/.exec(format.slice(i));
    if (m) {
      spec.width = Number(m[0]);
      i += m[0].length;
    }
    if (format[i] === '.') {
      i++;
      m = /^\d+/.exec(format.slice(i));
      spec.prec = m ? Number(m[0]) : 0;
      if (m) i += m[0].length;
    }
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, spec, args[argi++]!);
  }
  if (argi < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argi)
        .map((a) => `${goTypeName(a)}=${plain(a)}`)
        .join(', ') +
      ')';
  }
  return out;
}

function plain(a: FmtArg): string {
  if (a.kind === 'int') return a.v.toString();
  if (a.kind === 'float') return fmtG(a.v, -1, false);
  return a.v;
}

function bad(verb: string, a: FmtArg): string {
  return `%!${verb}(${goTypeName(a)}=${plain(a)})`;
}

/** The spec of a bare verb; shared, never mutated. */
const PLAIN: Spec = Object.freeze({ minus: false, plus: false, sharp: false, space: false, zero: false });

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined) return s;
  const w = spec.width;
  const len = Array.from(s).length;
  if (len >= w) return s;
  if (spec.minus) return s + ' '.repeat(w - len);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(w - len) + s.slice(sign.length);
  }
  return ' '.repeat(w - len) + s;
}

function signed(neg: boolean, body: string, spec: Spec): string {
  if (neg) return '-' + body;
  if (spec.plus) return '+' + body;
  if (spec.space) return ' ' + body;
  return body;
}

function formatOne(verb: string, spec: Spec, a: FmtArg): string {
  if (verb === 'T') return pad(goTypeName(a), spec, false);
  switch (a.kind) {
    case 'int':
      return formatInt(verb, spec, a);
    case 'float':
      return formatFloat(verb, spec, a);
    default:
      return formatString(verb, spec, a);
  }
}

function formatInt(verb: string, spec: Spec, a: FmtArg & { kind: 'int' }): string {
  if (spec === PLAIN && (verb === 'v' || verb === 'd')) return a.v.toString();
  const neg = a.v < 0n;
  const abs = neg ? -a.v : a.v;
  let base = 10;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      break;
    case 's':
      if (!a.big) return bad(verb, a);
      break;
    case 'b':
      base = 2;
      break;
    case 'o':
      base = 8;
      if (spec.sharp) prefix = '0';
      break;
    case 'O':
      base = 8;
      prefix = '0o';
      break;
    case 'x':
    case 'X':
      base = 16;
      if (spec.sharp) prefix = verb === 'x' ? '0x' : '0X';
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(a.v)), spec, false);
    case 'q':
      return pad("'" + String.fromCodePoint(Number(a.v)) + "'", spec, false);
    case 'U':
      return pad('U+' + abs.toString(16).toUpperCase().padStart(4, '0'), spec, false);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (a.big) return formatFloat(verb, spec, { kind: 'float', v: Number(a.v) });
      return bad(verb, a);
    default:
      return bad(verb, a);
  }
  let digits = abs.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
  }
  const s = signed(neg, prefix + digits, spec);
  return pad(s, spec.prec !== undefined ? { ...spec, zero: false } : spec, true);
}

function formatFloat(verb: string, spec: Spec, a: FmtArg & { kind: 'float' }): string {
  const x = a.v;
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  let body: string;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      body = fmtG(abs, spec.prec ?? -1, verb === 'G');
      break;
    case 'e':
    case 'E':
      body = fmtE(abs, spec.prec ?? 6, verb === 'E');
      break;
    case 'f':
    case 'F':
      body = fmtF(abs, spec.prec ?? 6);
      break;
    default:
      return bad(verb, a);
  }
  return pad(signed(neg, body, spec), spec, true);
}

function formatString(verb: string, spec: Spec, a: FmtArg & { kind: 'string' }): string {
  let s = a.v;
  switch (verb) {
    case 'v':
    case 's':
      if (spec.prec !== undefined) s = Array.from(s).slice(0, spec.prec).join('');
      return pad(s, spec, false);
    case 'q':
      return pad(goQuote(s), spec, false);
    case 'x':
    case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec, false);
    }
    default:
      return bad(verb, a);
  }
}

function expSuffix(e: number, upper: boolean): string {
  const sign = e < 0 ? '-' : '+';
  const d = String(Math.abs(e)).padStart(2, '0');
  return (upper ? 'E' : 'e') + sign + d;
}

/** Go %e with the given precision. */
export function fmtE(x: number, prec: number, upper = false): string {
  const s = x.toExponential(Math.min(prec, 100));
  const [mant, e] = s.split('e');
  return mant + expSuffix(Number(e), upper);
}

/** Go %f with the given precision. */
export function fmtF(x: number, prec: number): string {
  if (Math.abs(x) < 1e21) return x.toFixed(Math.min(prec, 100));
  const int = BigInt(x).toString();
  return prec > 0 ? int + '.' + '0'.repeat(prec) : int;
}

/** Go %g: shortest representation when prec < 0. */
export function fmtG(x: number, prec: number, upper = false): string {
  if (x === 0) return '0';
  // Shortest form without an exponent: JS prints the same digits as Go for 1e-4 <= |x| < 1e6.
  if (prec < 0) {
    const ax = Math.abs(x);
    if (ax >= 1e-4 && ax < 1e6) return String(x);
  }
  const s = prec < 0 ? x.toExponential() : x.toExponential(Math.max(prec, 1) - 1);
  const [mant, eStr] = s.split('e');
  const e = Number(eStr);
  const digits = mant!.replace('.', '').replace(/0+$/, '') || '0';
  const nd = digits.length;
  const dp = e + 1;
  let eprec = prec < 0 ? 6 : prec === 0 ? 1 : prec;
  if (prec >= 0 && eprec > nd && nd >= dp) eprec = nd;
  if (prec < 0) eprec = 6;
  if (e < -4 || e >= eprec) {
    return digits[0] + (nd > 1 ? '.' + digits.slice(1) : '') + expSuffix(e, upper);
  }
  if (dp <= 0) return '0.' + '0'.repeat(-dp) + digits;
  if (dp >= nd) return digits + '0'.repeat(dp - nd);
  return digits.slice(0, dp) + '.' + digits.slice(dp);
}
