/** OPA v1/topdown/cidr.go: net.cidr_* built-ins for IPv4 and IPv6 (Go's net package rules). */
import { spawnSync } from 'node:child_process';
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, elemErr, stringArg, typeErr } from './utils';
import { RegoObject, RegoSet, type Value } from '../value';

interface IP {
  readonly v6: boolean;
  readonly n: bigint; // address as an integer (32 or 128 bits)
}
interface Net {
  readonly v6: boolean;
  readonly base: bigint; // network address (host bits cleared)
  readonly prefix: number;
}

const bits = (v6: boolean): number => (v6 ? 128 : 32);

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    // Go rejects empty parts, non-digits and leading zeros.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const x = Number(p);
    if (x > 255) return undefined;
    n = (n << 8n) | BigInt(x);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  let tail: bigint | undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tail = parseV4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + rest.length > 7)) return undefined;
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== undefined) n = (n & ~0xffffffffn) | tail;
  return n;
}

/** Go's net.ParseIP; IPv4-mapped IPv6 addresses are IPv4 (To4). */
export function parseIP(s: string): IP | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, n: v4 };
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  return { v6: true, n: v6 };
}

function mask(v6: boolean, prefix: number): bigint {
  const b = bits(v6);
  return ((1n << BigInt(b)) - 1n) ^ ((1n << BigInt(b - prefix)) - 1n);
}

/** Go's net.ParseCIDR. */
export function parseCIDR(s: string): Net | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > bits(ip.v6)) return undefined;
  return { v6: ip.v6, base: ip.n & mask(ip.v6, prefix), prefix };
}

function mustCIDR(s: string): Net {
  const n = parseCIDR(s);
  if (!n) throw new BuiltinError(`invalid CIDR address: ${s}`);
  return n;
}

function netOf(ip: IP): Net {
  return { v6: ip.v6, base: ip.n, prefix: bits(ip.v6) };
}

function contains(a: Net, b: Net): boolean {
  return a.v6 === b.v6 && b.prefix >= a.prefix && (b.base & mask(a.v6, a.prefix)) === a.base;
}

function intersects(a: Net, b: Net): boolean {
  return contains(a, b) || contains(b, a);
}

/** A CIDR, or a plain IP taken as a /32 or /128. */
function cidrOrIP(s: string): Net {
  const ip = parseIP(s);
  if (ip) return netOf(ip);
  return mustCIDR(s);
}

export function formatIP(v6: boolean, n: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // Longest run of two or more zero groups becomes "::" (RFC 5952, as Go prints).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

const formatNet = (n: Net): string => `${formatIP(n.v6, n.base)}/${n.prefix}`;

/** IPv4 without a prefix takes its classful default mask (Go's IP.DefaultMask). */
function mergeInput(s: string): Net {
  if (s.includes('/')) {
    const n = parseCIDR(s);
    if (!n) throw new BuiltinError(`invalid CIDR address: ${s}`);
    return n;
  }
  const ip = parseIP(s);
  if (!ip) throw new BuiltinError(`IP address invalid: ${s}`);
  if (ip.v6) throw new BuiltinError('IPv6 invalid: needs prefix length');
  const first = Number(ip.n >> 24n);
  const prefix = first < 0x80 ? 8 : first < 0xc0 ? 16 : first < 0xe0 ? 24 : -1;
  if (prefix < 0) throw new BuiltinError(`IP address invalid: ${s}`);
  return { v6: false, base: ip.n & mask(false, prefix), prefix };
}

function merge(nets: Net[]): Net[] {
  const sorted = [...nets].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix));
  // Drop networks contained in an earlier one.
  let out: Net[] = [];
  for (const n of sorted) if (!out.some((o) => contains(o, n))) out.push(n);
  // Join sibling halves until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    const next: Net[] = [];
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      const b = out[i + 1];
      if (b && a.prefix === b.prefix && a.prefix > 0) {
        const parent = { v6: a.v6, base: a.base & mask(a.v6, a.prefix - 1), prefix: a.prefix - 1 };
        if (parent.base === a.base && contains(parent, b)) {
          next.push(parent);
          i++;
          changed = true;
          continue;
        }
      }
      next.push(a);
    }
    out = [];
    for (const n of next) if (!out.some((o) => contains(o, n))) out.push(n);
  }
  return out;
}

/** Entries of a cidr_contains_matches operand: [key, cidr-or-ip string]. */
function matchItems(v: Value, pos: number): Array<[Value, string]> {
  const elem = (x: Value): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'string') return x[0] as string;
    throw new BuiltinError(`operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return (v as readonly Value[]).map((x, i) => [i, elem(x)]);
  if (v instanceof RegoSet) return v.sorted().map((x) => [x, elem(x)]);
  if (v instanceof RegoObject) return v.sortedEntries().map(([k, x]) => [k, elem(x)]);
  throw typeErr(pos, v, 'string', 'array', 'set', 'object');
}

const MAX_EXPAND = 1n << 20n;

/**
 * Resolves a name to its addresses. Built-ins are synchronous, so the lookup runs in a
 * short-lived child Node process (bounded to 5s); IP literals answer themselves.
 */
function lookupIPs(name: string): string[] {
  const ip = parseIP(name);
  if (ip) return [formatIP(ip.v6, ip.n)];
  const script =
    "require('node:dns').lookup(process.argv[1], { all: true }, (e, a) => process.stdout.write(JSON.stringify(e ? { error: e.code || String(e) } : a.map((x) => x.address))))";
  const out = spawnSync(process.execPath, ['-e', script, name], { encoding: 'utf8', timeout: 5000 });
  const ans = out.stdout ? (JSON.parse(out.stdout) as string[] | { error: string }) : { error: 'lookup timed out' };
  if (!Array.isArray(ans)) throw new BuiltinError(`lookup ${name}: ${ans.error}`);
  return ans;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'net.cidr_contains', 2, (args) => contains(mustCIDR(stringArg(args, 0)), cidrOrIP(stringArg(args, 1))));
  def(r, 'net.cidr_intersects', 2, (args) => intersects(mustCIDR(stringArg(args, 0)), mustCIDR(stringArg(args, 1))));
  def(r, 'net.cidr_is_valid', 1, ([s]) => typeof s === 'string' && parseCIDR(s) !== undefined);
  def(r, 'net.cidr_expand', 1, (args) => {
    const n = mustCIDR(stringArg(args, 0));
    const count = 1n << BigInt(bits(n.v6) - n.prefix);
    if (count > MAX_EXPAND) throw new BuiltinError('CIDR too large to expand');
    const out = new RegoSet();
    for (let i = 0n; i < count; i++) out.add(formatIP(n.v6, n.base + i));
    return out;
  });
  def(r, 'net.cidr_merge', 1, ([v]) => {
    let items: readonly Value[];
    if (Array.isArray(v)) items = v as readonly Value[];
    else if (v instanceof RegoSet) items = v.sorted();
    else throw typeErr(1, v!, 'array', 'set');
    const nets = items.map((x) => {
      if (typeof x !== 'string') throw elemErr(1, v!, x, 'string');
      return mergeInput(x);
    });
    const v4 = merge(nets.filter((n) => !n.v6));
    const v6 = merge(nets.filter((n) => n.v6));
    return new RegoSet([...v4, ...v6].map(formatNet));
  });
  def(
    r,
    'net.lookup_ip_addr',
    1,
    (args, ctx) => {
      const name = stringArg(args, 0);
      const key = `net.lookup_ip_addr\u0000${name}`;
      const hit = ctx.cache.get(key) as Value | undefined;
      if (hit !== undefined) return hit;
      const v = new RegoSet(lookupIPs(name));
      ctx.cache.set(key, v);
      return v;
    },
    { nondeterministic: true },
  );
  def(r, 'net.cidr_contains_matches', 2, ([a, b]) => {
    const cidrs = matchItems(a!, 1).map(([k, s]) => [k, mustCIDR(s)] as const);
    const targets = matchItems(b!, 2).map(([k, s]) => [k, cidrOrIP(s)] as const);
    const out = new RegoSet();
    for (const [k1, n1] of cidrs) for (const [k2, n2] of targets) if (contains(n1, n2)) out.add([k1, k2]);
    return out;
  });
}
