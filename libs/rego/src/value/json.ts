import { BigNum, fromBigInt, fromDouble, numberToString, parseNumber } from './number';
import { RegoObject } from './object';
import { RegoSet } from './set';
import type { Value } from './types';

/** A JSON-compatible JS value as produced by JSON.parse (bigint allowed for exact integers). */
export type JSONValue = null | boolean | number | bigint | string | JSONValue[] | { [k: string]: JSONValue };

/**
 * Converts a JS value (JSON.parse output, or hand-built) into a Rego value. Plain objects
 * become objects with string keys; bigint becomes an exact integer; Rego values pass through.
 */
export function fromJSON(x: unknown): Value {
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return x;
    case 'number':
      return fromDouble(x);
    case 'bigint':
      return fromBigInt(x);
    case 'undefined':
      throw new TypeError('undefined is not a JSON value');
  }
  if (x === null) return null;
  if (Array.isArray(x)) return x.map(fromJSON);
  if (x instanceof RegoObject || x instanceof RegoSet || x instanceof BigNum) return x;
  if (typeof x === 'object') return RegoObject.fromRecordLazily(x as Record<string, unknown>, fromJSON);
  throw new TypeError(`${typeof x} is not a JSON value`);
}

/**
 * Converts a Rego value to plain JS (for APIs that want objects): sets become arrays in
 * sorted order, objects have their keys sorted, non-string keys are rendered as their JSON
 * text (OPA's behaviour), big integers become bigint.
 */
export function toJSON(v: Value): JSONValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'number':
      return v;
  }
  if (v === null) return null;
  if (v instanceof BigNum) return v.scale === 0 ? v.int : Number(v.toString());
  if (Array.isArray(v)) return (v as readonly Value[]).map(toJSON);
  if (v instanceof RegoSet) return v.sorted().map(toJSON);
  const out: { [k: string]: JSONValue } = {};
  (v as RegoObject).forEachSorted((k, val) => void (out[objectKeyString(k)] = toJSON(val)));
  return out;
}

/** How OPA renders a non-string object key when serialising to JSON. */
export function objectKeyString(k: Value): string {
  return typeof k === 'string' ? k : toJSONText(k);
}

/**
 * JSON text of a value, exactly (big integers keep every digit), with sorted keys and sets,
 * as OPA serialises. `indent` as JSON.stringify's space argument.
 */
export function toJSONText(v: Value, indent?: string | number, opts: { escapeHTML?: boolean } = {}): string {
  const ind = typeof indent === 'number' ? ' '.repeat(indent) : (indent ?? '');
  const quote = opts.escapeHTML ? quoteHTML : quotePlain;
  const parts: string[] = [];
  write(v, '');
  return parts.join('');

  function write(x: Value, cur: string): void {
    switch (typeof x) {
      case 'string':
        parts.push(quote(x));
        return;
      case 'boolean':
        parts.push(x ? 'true' : 'false');
        return;
      case 'number':
        parts.push(numberToString(x));
        return;
    }
    if (x === null) {
      parts.push('null');
      return;
    }
    if (x instanceof BigNum) {
      parts.push(x.toString());
      return;
    }
    const isObj = x instanceof RegoObject;
    const items: Array<readonly [string | undefined, Value]> = isObj
      ? x.sortedEntries().map(([k, val]) => [objectKeyString(k), val] as const)
      : (x instanceof RegoSet ? x.sorted() : (x as readonly Value[])).map((e) => [undefined, e] as const);
    const [open, close] = isObj ? ['{', '}'] : ['[', ']'];
    if (items.length === 0) {
      parts.push(open + close);
      return;
    }
    parts.push(open);
    const inner = cur + ind;
    items.forEach(([k, val], i) => {
      if (i > 0) parts.push(',');
      if (ind) parts.push('\n' + inner);
      if (k !== undefined) parts.push(quote(k) + (ind ? ': ' : ':'));
      write(val, inner);
    });
    if (ind) parts.push('\n' + cur);
    parts.push(close);
  }
}

function quotePlain(s: string): string {
  return JSON.stringify(s);
}

/**
 * Go's json.Marshal escapes <, >, & and U+2028/2029 as \u00XX, so json.marshal("<") is
 * "\u003c" in OPA; pass { escapeHTML: true } to get that.
 */
function quoteHTML(s: string): string {
  const j = JSON.stringify(s);
  return /[<>&\u2028\u2029]/.test(j)
    ? j.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
    : j;
}

const LONG_DIGITS = /\d{16}|[eE][+]?\d{2}/;

/**
 * Parses JSON text into a Rego value, keeping integers exact however long. Uses JSON.parse
 * when the text cannot contain a number that loses precision. Throws SyntaxError.
 */
export function parseJSON(text: string): Value {
  if (!LONG_DIGITS.test(text)) return fromJSON(JSON.parse(text));
  return new JSONParser(text).parseTop();
}

class JSONParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseTop(): Value {
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail();
    return v;
  }

  private fail(): never {
    throw new SyntaxError(`Unexpected token in JSON at position ${this.i}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private value(): Value {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const o = new RegoObject();
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return o;
      }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail();
        const k = this.str();
        this.ws();
        if (this.s[this.i] !== ':') this.fail();
        this.i++;
        o.set(k, this.value());
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return o;
        if (d !== ',') this.fail();
      }
    }
    if (c === '[') {
      this.i++;
      const a: Value[] = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return a;
      }
      for (;;) {
        a.push(this.value());
        this.ws();
        const d = this.s[this.i++];
        if (d === ']') return a;
        if (d !== ',') this.fail();
      }
    }
    if (c === '"') return this.str();
    if (this.s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4;
      return null;
    }
    const m = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) this.fail();
    this.i += r[0].length;
    const n = parseNumber(r[0]);
    if (n === undefined) this.fail();
    return n;
  }

  private str(): string {
    // eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
    const m = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) this.fail();
    this.i += r[0].length;
    return JSON.parse(r[0]) as string;
  }
}
