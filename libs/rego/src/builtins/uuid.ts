/** OPA v1/topdown/uuid.go: uuid.rfc4122 (random v4, stable per query and key), uuid.parse. */
import { randomUUID } from 'node:crypto';
import type { BuiltinRegistry } from './registry';
import { def, stringArg } from './utils';
import { RegoObject, fromBigInt, type Value } from '../value';

/** 100ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const GREGORIAN_OFFSET = 122192928000000000n;

/** google/uuid Parse: plain, {braced}, urn:uuid: prefixed, or 32 hex digits. */
function parseBytes(s: string): Buffer | undefined {
  let hex: string;
  if (s.length === 36) hex = dashed(s) ?? '';
  else if (s.length === 38 && s[0] === '{' && s[37] === '}') hex = dashed(s.slice(1, 37)) ?? '';
  else if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') hex = dashed(s.slice(9)) ?? '';
  else if (s.length === 32) hex = s;
  else return undefined;
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

function dashed(s: string): string | undefined {
  if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
  return s.replace(/-/g, '');
}

function variant(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

export function parseUUID(s: string): RegoObject | undefined {
  const u = parseBytes(s);
  if (!u) return undefined;
  const version = u[6]! >> 4;
  const out = new RegoObject();
  out.set('version', version).set('variant', variant(u[8]!));
  if (version === 1 || version === 2) {
    const t = BigInt(u.readUInt32BE(0)) | (BigInt(u.readUInt16BE(4)) << 32n) | (BigInt(u.readUInt16BE(6) & 0xfff) << 48n);
    out.set('time', fromBigInt((t - GREGORIAN_OFFSET) * 100n));
    const node = [...u.subarray(10, 16)].map((b) => b.toString(16).padStart(2, '0'));
    out.set('nodeid', node.join('-'));
    const first = u[10]!;
    out.set('macvariables', `${first & 0x02 ? 'local' : 'global'}:${first & 0x01 ? 'multicast' : 'unicast'}`);
    out.set('clocksequence', u.readUInt16BE(8) & 0x3fff);
    if (version === 2) {
      out.set('id', u.readUInt32BE(0));
      const d = u[9]!;
      out.set('domain', d === 0 ? 'Person' : d === 1 ? 'Group' : d === 2 ? 'Org' : `Domain${d}`);
    }
  }
  return out;
}

export function register(r: BuiltinRegistry): void {
  def(
    r,
    'uuid.rfc4122',
    1,
    (args, ctx): Value => {
      const key = `uuid.rfc4122\u0000${stringArg(args, 0)}`;
      const hit = ctx.cache.get(key);
      if (typeof hit === 'string') return hit;
      const v = randomUUID();
      ctx.cache.set(key, v);
      return v;
    },
    { nondeterministic: true },
  );
  def(r, 'uuid.parse', 1, (args) => parseUUID(stringArg(args, 0)));
}
