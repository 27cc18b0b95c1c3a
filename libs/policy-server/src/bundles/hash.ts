import { createHash } from 'node:crypto';
import { load as loadYaml } from 'js-yaml';
import { BundleError } from './archive';

/** OPA's hashing algorithm names (bundle/hash.go) and node's digests for them. */
const DIGESTS: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

/** A JSON number kept as its literal: OPA hashes numbers as written ("1.0" is not "1"). */
class JsonNumber {
  constructor(readonly literal: string) {}
}

type Canonical = null | boolean | string | JsonNumber | Canonical[] | { [k: string]: Canonical };

/** A strict JSON reader that keeps number literals (JSON.parse would turn 1.0 into 1). */
function parseJsonKeepingNumbers(text: string): Canonical {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new BundleError(`invalid JSON at offset ${i}: ${what}`);
  };
  const value = (depth: number): Canonical => {
    if (depth > 1000) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [k: string]: Canonical } = {};
      ws();
      if (text[i] === '}') return i++, obj;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, obj;
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: Canonical[] = [];
      ws();
      if (text[i] === ']') return i++, arr;
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, arr;
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return new JsonNumber(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

function fromPlain(v: unknown): Canonical {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return new JsonNumber(JSON.stringify(v));
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromPlain(x)]));
  return null;
}

/** Go's encoder (SetEscapeHTML(false)) leaves what JSON.stringify leaves, except U+2028/U+2029. */
function encodeString(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** OPA's walk(): objects with keys in order, no whitespace, primitives as Go encodes them. */
function encode(v: Canonical, out: string[]): void {
  if (v instanceof JsonNumber) out.push(v.literal);
  else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((e, i) => {
      if (i > 0) out.push(',');
      encode(e, out);
    });
    out.push(']');
  } else if (v !== null && typeof v === 'object') {
    out.push('{');
    Object.keys(v)
      .sort()
      .forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(encodeString(k), ':');
        encode(v[k]!, out);
      });
    out.push('}');
  } else if (typeof v === 'string') out.push(encodeString(v));
  else out.push(JSON.stringify(v));
}

/** OPA's IsStructuredDoc: these are hashed as parsed JSON, every other file as its bytes. */
export function isStructuredDoc(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === 'data.yaml' || base === '.manifest' || base === 'signatures.json';
}

export function isHashingAlgorithm(name: string): boolean {
  return DIGESTS[name] !== undefined;
}

/**
 * A bundle file's digest as OPA computes it for `.signatures.json` (bundle/hash.go): structured
 * documents parsed and re-encoded canonically (sorted keys, no whitespace), so the signature
 * does not depend on formatting; other files hashed byte for byte.
 */
export function hashBundleFile(path: string, content: Buffer, algorithm = 'SHA-256'): string {
  const digest = DIGESTS[algorithm];
  if (!digest) throw new BundleError(`unsupported hashing algorithm: ${algorithm}`);
  const h = createHash(digest);
  if (isStructuredDoc(path)) {
    const text = content.toString('utf8');
    let value: Canonical;
    try {
      value = path.endsWith('.yaml') ? fromPlain(loadYaml(text)) : parseJsonKeepingNumbers(text);
    } catch (err) {
      throw new BundleError(`${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    const out: string[] = [];
    encode(value, out);
    h.update(out.join(''), 'utf8');
  } else {
    h.update(content);
  }
  return h.digest('hex');
}
