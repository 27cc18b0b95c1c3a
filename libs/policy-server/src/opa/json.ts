/**
 * JSON exactly as OPA's server writes it (Go's encoding/json): object keys sorted, `<`, `>`, `&`,
 * U+2028 and U+2029 escaped, one trailing newline, two-space indent when `pretty`.
 * Envelope objects keep their insertion order (Go structs have a fixed field order).
 */
const ESCAPE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A value that keeps its key order when written (a Go struct, not a map). */
export class Ordered {
  constructor(readonly fields: Readonly<Record<string, unknown>>) {}
}

/** One nesting level: its members' indent, and the separators around them (compact: all empty but `,` and `:`). */
interface Layout {
  readonly inner: string;
  readonly open: string;
  readonly comma: string;
  readonly close: string;
  readonly colon: string;
}

const COMPACT: Layout = { inner: '', open: '', comma: ',', close: '', colon: ':' };

function layout(indent: string, step: string): Layout {
  if (!step) return COMPACT;
  const inner = indent + step;
  return { inner, open: `\n${inner}`, comma: `,\n${inner}`, close: `\n${indent}`, colon: ': ' };
}

// Strings are written by JSON.stringify and Go's HTML escapes applied once to the whole text: the
// escaped characters can only occur inside strings. Built by concatenation, not map/join: this
// writes every decision's response (bench:policy).
function write(v: unknown, indent: string, step: string, sortKeys: boolean): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (v === null) return 'null';
  if (Array.isArray(v) || v instanceof Set) {
    const items = Array.isArray(v) ? (v as readonly unknown[]) : [...(v as Set<unknown>)];
    if (items.length === 0) return '[]';
    const l = layout(indent, step);
    let out = '[' + l.open;
    for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : l.comma) + write(items[i], l.inner, step, true);
    return out + l.close + ']';
  }
  if (v instanceof Ordered) return writeObject(v.fields, false, indent, step);
  const toJSON = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(v), indent, step, sortKeys);
  return writeObject(v as Record<string, unknown>, sortKeys, indent, step);
}

function writeObject(o: Readonly<Record<string, unknown>>, sortKeys: boolean, indent: string, step: string): string {
  const keys = Object.keys(o);
  // The engine's objects arrive with their keys in order already; integer-like keys are where
  // JavaScript's own property order and Go's byte order part.
  if (sortKeys && !inOrder(keys)) keys.sort(compareKeys);
  const l = layout(indent, step);
  let out = '';
  for (const k of keys) {
    const value = o[k];
    if (value === undefined) continue;
    out += (out === '' ? l.open : l.comma) + JSON.stringify(k) + l.colon + write(value, l.inner, step, true);
  }
  return out === '' ? '{}' : '{' + out + l.close + '}';
}

// Go sorts map keys by their UTF-8 bytes; for strings without surrogates that is code-unit order.
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** Serialises `value` the way OPA's HTTP writer does, including the trailing newline. */
export function opaJson(value: unknown, pretty = false): string {
  const text = write(value, '', pretty ? '  ' : '', true);
  return (ESCAPE.test(text) ? text.replace(ESCAPE, (c) => ESCAPES[c]!) : text) + '\n';
}
