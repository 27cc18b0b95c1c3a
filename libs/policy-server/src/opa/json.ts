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

function str(s: string): string {
  const q = JSON.stringify(s);
  return ESCAPE.test(q) ? q.replace(ESCAPE, (c) => ESCAPES[c]!) : q;
}

/** A value that keeps its key order when written (a Go struct, not a map). */
export class Ordered {
  constructor(readonly fields: Readonly<Record<string, unknown>>) {}
}

function write(v: unknown, indent: string, step: string, sortKeys: boolean): string {
  switch (typeof v) {
    case 'string':
      return str(v);
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
  const inner = step ? indent + step : '';
  const nl = step ? '\n' : '';
  const sep = step ? ': ' : ':';
  if (Array.isArray(v) || v instanceof Set) {
    const items = [...(v as Iterable<unknown>)];
    if (items.length === 0) return '[]';
    return `[${nl}${items.map((x) => inner + write(x, inner, step, true)).join(`,${nl}`)}${nl}${indent}]`;
  }
  if (v instanceof Ordered) return writeObject(v.fields, false, indent, inner, nl, sep, step);
  const toJSON = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(v), indent, step, sortKeys);
  return writeObject(v as Record<string, unknown>, sortKeys, indent, inner, nl, sep, step);
}

function writeObject(
  o: Readonly<Record<string, unknown>>,
  sortKeys: boolean,
  indent: string,
  inner: string,
  nl: string,
  sep: string,
  step: string,
): string {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  if (sortKeys) keys.sort(compareKeys);
  if (keys.length === 0) return '{}';
  return `{${nl}${keys.map((k) => `${inner}${str(k)}${sep}${write(o[k], inner, step, true)}`).join(`,${nl}`)}${nl}${indent}}`;
}

// Go sorts map keys by their UTF-8 bytes; for strings without surrogates that is code-unit order.
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Serialises `value` the way OPA's HTTP writer does, including the trailing newline. */
export function opaJson(value: unknown, pretty = false): string {
  return write(value, '', pretty ? '  ' : '', true) + '\n';
}
