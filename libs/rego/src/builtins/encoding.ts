/**
 * OPA v1/topdown/encoding.go: json.*, base64*, hex.*, urlquery.*, yaml.*.
 * Byte strings are UTF-8 as in Go; decoded bytes that are not valid UTF-8 still become a
 * string (Go would keep the raw bytes; JS replaces them with U+FFFD).
 */
import * as yaml from 'js-yaml';
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, elemErr, objectArg, operandErr, stringArg, typeErr } from './utils';
import {
  BigNum,
  RegoObject,
  RegoSet,
  fromJSON,
  parseJSON,
  toDouble,
  toJSONText,
  type Value,
} from '../value';

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64(s: string, url: boolean): string {
  const clean = s;
  const re = url ? B64URL : B64;
  if (!re.test(clean)) throw new BuiltinError(`illegal base64 data at input byte ${firstBad(clean, url)}`);
  // Go's StdEncoding requires padding; URLEncoding (OPA base64url.decode) accepts unpadded input.
  if (!url && clean.length % 4 !== 0) throw new BuiltinError(`illegal base64 data at input byte ${clean.length - (clean.length % 4)}`);
  if (url && clean.length % 4 === 1) throw new BuiltinError(`illegal base64 data at input byte ${clean.length - 1}`);
  return Buffer.from(clean, url ? 'base64url' : 'base64').toString('utf8');
}

function firstBad(s: string, url: boolean): number {
  const ok = url ? /[A-Za-z0-9_=-]/ : /[A-Za-z0-9+/=]/;
  for (let i = 0; i < s.length; i++) if (!ok.test(s[i]!)) return i;
  return s.length;
}

/** Go's url.QueryEscape: space as '+', unreserved kept. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function queryUnescape(s: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) {
    const m = /%.{0,2}/.exec(s.slice(s.search(/%(?![0-9A-Fa-f]{2})/)))!;
    throw new BuiltinError(`invalid URL escape "${m[0]}"`);
  }
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    // Bytes that are not UTF-8: decode bytewise.
    return Buffer.from(s.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
}

/** Go's encoding/json wording for the common syntax errors (V8 words them differently). */
function goJSONError(msg: string): string {
  if (/end of JSON input/i.test(msg)) return 'unexpected end of JSON input';
  const m = /Unexpected token '?(.)'?/.exec(msg) ?? /Unexpected (?:non-whitespace )?character.*?'(.)'/.exec(msg);
  if (m) return `invalid character '${m[1]}' looking for beginning of value`;
  return msg;
}

/** JSON text as OPA marshals it (Go encoding/json + sorted keys, sets as arrays). */
export function marshal(v: Value, indent?: string): string {
  return toJSONText(v, indent, { escapeHTML: true });
}

function yamlToValue(x: unknown): Value {
  if (x instanceof Date) return x.toISOString();
  if (x === undefined) return null;
  if (Array.isArray(x)) return x.map(yamlToValue);
  if (x instanceof Map) {
    const o = new RegoObject();
    for (const [k, v] of x) o.set(typeof k === 'string' ? k : String(k), yamlToValue(v));
    return o;
  }
  if (x !== null && typeof x === 'object') {
    const o = new RegoObject();
    for (const [k, v] of Object.entries(x)) o.set(k, yamlToValue(v));
    return o;
  }
  if (typeof x === 'number' && !Number.isFinite(x)) throw new BuiltinError('yaml: non-finite number');
  return fromJSON(x);
}

function yamlError(e: unknown): BuiltinError {
  const err = e as { reason?: string; mark?: { line?: number }; message?: string };
  let reason = err.reason ?? err.message ?? String(e);
  // Go's yaml speaks of what it did not find; keep its wording for the common flow case.
  if (/flow collection|end of the stream/.test(reason)) reason = "did not find expected ',' or ']'";
  const line = (err.mark?.line ?? 0) + 1;
  return new BuiltinError(`yaml: line ${line}: ${reason}`);
}

function valueToPlain(v: Value): unknown {
  if (v instanceof BigNum) return toDouble(v);
  if (Array.isArray(v)) return (v as readonly Value[]).map(valueToPlain);
  if (v instanceof RegoSet) return v.sorted().map(valueToPlain);
  if (v instanceof RegoObject) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v.sortedEntries()) out[typeof k === 'string' ? k : toJSONText(k)] = valueToPlain(x);
    return out;
  }
  return v;
}

const MARSHAL_OPTS = new Set(['pretty', 'indent', 'prefix']);

export function register(r: BuiltinRegistry): void {
  def(r, 'json.marshal', 1, ([x]) => marshal(x!));
  def(r, 'json.marshal_with_options', 2, (args) => {
    const v = args[0]!;
    const opts = objectArg(args, 1);
    let pretty: boolean | undefined;
    let indent = '\t';
    let prefix = '';
    let explicit = false;
    for (const [k, o] of opts.entries()) {
      if (typeof k !== 'string' || !MARSHAL_OPTS.has(k)) {
        throw operandErr(2, `object contained unknown key ${toJSONText(k)}`);
      }
      if (k === 'pretty') {
        if (typeof o !== 'boolean') throw operandErr(2, `pretty must be a boolean, got ${toJSONText(o)}`);
        pretty = o;
      } else {
        if (typeof o !== 'string') throw operandErr(2, `${k} must be a string, got ${toJSONText(o)}`);
        if (k === 'indent') indent = o;
        else prefix = o;
        explicit = true;
      }
    }
    if (pretty === false || (pretty === undefined && !explicit)) return marshal(v);
    const text = marshal(v, indent);
    return text
      .split('\n')
      .map((line) => prefix + line)
      .join('\n');
  });
  def(r, 'json.unmarshal', 1, (args) => {
    const s = stringArg(args, 0);
    try {
      return parseJSON(s);
    } catch (e) {
      throw new BuiltinError(goJSONError((e as Error).message));
    }
  });
  def(r, 'json.is_valid', 1, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  });
  def(r, 'base64.encode', 1, (args) => utf8(stringArg(args, 0)).toString('base64'));
  def(r, 'base64.decode', 1, (args) => decodeBase64(stringArg(args, 0), false));
  def(r, 'base64.is_valid', 1, ([s]) => {
    if (typeof s !== 'string') return false;
    return B64.test(s) && s.length % 4 === 0;
  });
  def(r, 'base64url.encode', 1, (args) => {
    const raw = utf8(stringArg(args, 0)).toString('base64url');
    return raw + '='.repeat((4 - (raw.length % 4)) % 4);
  });
  def(r, 'base64url.encode_no_pad', 1, (args) => utf8(stringArg(args, 0)).toString('base64url'));
  def(r, 'base64url.decode', 1, (args) => decodeBase64(stringArg(args, 0), true));
  def(r, 'hex.encode', 1, (args) => utf8(stringArg(args, 0)).toString('hex'));
  def(r, 'hex.decode', 1, (args) => {
    const s = stringArg(args, 0);
    for (let i = 0; i < s.length; i++) {
      if (!/[0-9a-fA-F]/.test(s[i]!)) {
        const cp = s.codePointAt(i)!;
        throw new BuiltinError(`invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`);
      }
    }
    if (s.length % 2 === 1) throw new BuiltinError('odd length hex string');
    return Buffer.from(s, 'hex').toString('utf8');
  });
  def(r, 'urlquery.encode', 1, (args) => queryEscape(stringArg(args, 0)));
  def(r, 'urlquery.decode', 1, (args) => queryUnescape(stringArg(args, 0)));
  def(r, 'urlquery.encode_object', 1, (args) => {
    const o = objectArg(args, 0);
    const parts: string[] = [];
    // Go's url.Values.Encode sorts by key.
    for (const [k, v] of o.sortedEntries()) {
      if (typeof k !== 'string') throw operandErr(1, 'must be object of strings');
      const ek = queryEscape(k);
      if (typeof v === 'string') parts.push(`${ek}=${queryEscape(v)}`);
      else if (Array.isArray(v) || v instanceof RegoSet) {
        const items: readonly Value[] = Array.isArray(v) ? (v as readonly Value[]) : v.sorted();
        for (const x of items) {
          if (typeof x !== 'string') throw elemErr(1, v, x, 'string');
          parts.push(`${ek}=${queryEscape(x)}`);
        }
      } else throw typeErr(1, v, 'string', 'array', 'set');
    }
    return parts.join('&');
  });
  def(r, 'urlquery.decode_object', 1, (args) => {
    const s = stringArg(args, 0);
    const out = new RegoObject();
    if (s === '') return out;
    for (const part of s.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = queryUnescape(eq < 0 ? part : part.slice(0, eq));
      const v = eq < 0 ? '' : queryUnescape(part.slice(eq + 1));
      const prev = out.get(k) as readonly Value[] | undefined;
      out.set(k, prev ? [...prev, v] : [v]);
    }
    return out;
  });
  def(r, 'yaml.marshal', 1, ([x]) => yaml.dump(valueToPlain(x!), { sortKeys: true, seqNoIndent: true, lineWidth: -1, quoteStyle: 'double' }));
  def(r, 'yaml.unmarshal', 1, (args) => {
    const s = stringArg(args, 0);
    let docs: unknown[];
    try {
      docs = yaml.loadAll(s);
    } catch (e) {
      throw yamlError(e);
    }
    // Go's yaml.Unmarshal decodes the first document; an empty stream is null.
    return yamlToValue((docs[0] ?? null) as unknown);
  });
  def(r, 'yaml.is_valid', 1, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      yaml.loadAll(s);
      return true;
    } catch {
      return false;
    }
  });
}

