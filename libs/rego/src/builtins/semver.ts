/** OPA v1/topdown/semver.go: semver.is_valid, semver.compare (SemVer 2.0.0 precedence). */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, stringArg } from './utils';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Version {
  readonly core: readonly [bigint, bigint, bigint];
  readonly pre: readonly string[];
}

function parse(s: string): Version | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { core: [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)], pre: m[4] ? m[4].split('.') : [] };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemver(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = cmpBig(a.core[i]!, b.core[i]!);
    if (c !== 0) return c;
  }
  // A version without pre-release has higher precedence.
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    let c: number;
    if (xn && yn) c = cmpBig(BigInt(x), BigInt(y));
    else if (xn) c = -1;
    else if (yn) c = 1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return a.pre.length < b.pre.length ? -1 : a.pre.length > b.pre.length ? 1 : 0;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'semver.is_valid', 1, ([v]) => typeof v === 'string' && parse(v) !== undefined);
  def(r, 'semver.compare', 2, (args) => {
    const a = stringArg(args, 0);
    const b = stringArg(args, 1);
    const va = parse(a);
    if (!va) throw new BuiltinError(`operand 1: string ${JSON.stringify(a)} is not a valid SemVer`);
    const vb = parse(b);
    if (!vb) throw new BuiltinError(`operand 2: string ${JSON.stringify(b)} is not a valid SemVer`);
    return compareSemver(va, vb);
  });
}
