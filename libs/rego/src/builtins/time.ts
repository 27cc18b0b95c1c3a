/** OPA v1/topdown/time.go: time.* built-ins (nanoseconds since the Unix epoch, int64). */
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import {
  DAYS,
  MAX_NS,
  MIN_NS,
  NAMED_LAYOUTS,
  NS_PER_S,
  UTC,
  daysFromCivil,
  daysInMonth,
  formatTime,
  loadZone,
  parseDuration,
  parseTime,
  toCivil,
  type Zone,
} from './gotime';
import { def, intArg, stringArg, typeErr } from './utils';
import { BigNum, fromBigInt, toBigInt, type Value } from '../value';

function inRange(ns: bigint): bigint {
  if (ns < MIN_NS || ns > MAX_NS) throw new BuiltinError('time outside of valid range');
  return ns;
}

/**
 * A number of nanoseconds as int64. OPA takes big.Float.Int64 and insists on an exact answer, so
 * fractions fail just as out-of-range numbers do: both are "timestamp too big".
 */
function nsOf(v: Value, pos: number): bigint {
  if (typeof v !== 'number' && !(v instanceof BigNum)) throw typeErr(pos, v, 'number');
  const ns = toBigInt(v);
  if (ns === undefined || ns < MIN_NS || ns > MAX_NS) throw new BuiltinError('timestamp too big');
  return ns;
}

/** The layout names OPA's acceptedTimeFormats resolves; any other string is a layout itself. */
const ACCEPTED_LAYOUTS = ['ANSIC', 'UnixDate', 'RubyDate', 'RFC822', 'RFC822Z', 'RFC850', 'RFC1123', 'RFC1123Z', 'RFC3339', 'RFC3339Nano'];
const layoutFor = (name: string): string => (ACCEPTED_LAYOUTS.includes(name) ? NAMED_LAYOUTS[name]! : name);

const TZ_TIME = 'either number (ns) or [number (ns), string (tz)]';

/**
 * `ns` or `[ns, tz]` or `[ns, tz, layout]` (OPA's tzTime). Elements past the third are ignored,
 * and every operand error names operand 1, as OPA's do.
 */
function tzTime(v: Value): { ns: bigint; zone: Zone; layout?: string } {
  if (Array.isArray(v)) {
    const a = v as readonly Value[];
    if (a.length === 0) throw typeErr(1, v, TZ_TIME);
    const ns = nsOf(a[0]!, 1);
    let zone = UTC;
    if (a.length >= 2) {
      const tz = a[1]!;
      if (typeof tz !== 'string') throw typeErr(1, tz, 'string');
      zone = loadZone(tz);
    }
    let layout: string | undefined;
    if (a.length >= 3) {
      const l = a[2]!;
      if (typeof l !== 'string') throw typeErr(1, l, 'string');
      // An empty layout is OPA's "none given": RFC3339Nano.
      layout = l === '' ? undefined : layoutFor(l);
    }
    return { ns, zone, layout };
  }
  if (typeof v === 'number' || v instanceof BigNum) return { ns: nsOf(v, 1), zone: UTC };
  throw typeErr(1, v, TZ_TIME);
}

export function register(r: BuiltinRegistry): void {
  def(r, 'time.now_ns', 0, (_a, ctx) => fromBigInt(ctx.timeNs), { nondeterministic: true });
  def(r, 'time.parse_ns', 2, (args) => {
    const layout = stringArg(args, 0);
    const value = stringArg(args, 1);
    return fromBigInt(inRange(parseTime(layoutFor(layout), value)));
  });
  def(r, 'time.parse_rfc3339_ns', 1, (args) =>
    fromBigInt(inRange(parseTime(NAMED_LAYOUTS['RFC3339']!, stringArg(args, 0)))),
  );
  def(r, 'time.parse_duration_ns', 1, (args) => fromBigInt(parseDuration(stringArg(args, 0))));
  def(r, 'time.date', 1, ([x]) => {
    const { ns, zone } = tzTime(x!);
    const c = toCivil(ns, zone);
    return [c.year, c.month, c.day];
  });
  def(r, 'time.clock', 1, ([x]) => {
    const { ns, zone } = tzTime(x!);
    const c = toCivil(ns, zone);
    return [c.hour, c.minute, c.second];
  });
  def(r, 'time.weekday', 1, ([x]) => {
    const { ns, zone } = tzTime(x!);
    return DAYS[toCivil(ns, zone).weekday]!;
  });
  def(r, 'time.format', 1, ([x]) => {
    const { ns, zone, layout } = tzTime(x!);
    return formatTime(toCivil(ns, zone), layout ?? NAMED_LAYOUTS['RFC3339Nano']!);
  });
  def(r, 'time.add_date', 4, (args) => {
    const ns = nsOf(args[0]!, 1);
    const years = intArg(args, 1);
    const months = intArg(args, 2);
    const days = intArg(args, 3);
    // Go's AddDate in UTC: normalise the month, then let the day overflow into the next.
    const c = toCivil(ns, UTC);
    const m0 = c.month - 1 + months;
    const y = c.year + years + Math.floor(m0 / 12);
    const m = ((m0 % 12) + 12) % 12;
    const dayNum = daysFromCivil(y, m + 1, 1) + c.day - 1 + days;
    const secs = BigInt(dayNum) * 86400n + BigInt(c.hour * 3600 + c.minute * 60 + c.second);
    return fromBigInt(inRange(secs * NS_PER_S + BigInt(c.nanos)));
  });
  def(r, 'time.diff', 2, ([a, b]) => {
    const t1 = tzTime(a!);
    const t2 = tzTime(b!);
    // Both seen in the first time's zone; earlier first (icza/gox, as OPA does).
    const [x, y] = t1.ns <= t2.ns ? [t1.ns, t2.ns] : [t2.ns, t1.ns];
    const c1 = toCivil(x, t1.zone);
    const c2 = toCivil(y, t1.zone);
    let year = c2.year - c1.year;
    let month = c2.month - c1.month;
    let day = c2.day - c1.day;
    let hour = c2.hour - c1.hour;
    let min = c2.minute - c1.minute;
    let sec = c2.second - c1.second;
    if (sec < 0) {
      sec += 60;
      min--;
    }
    if (min < 0) {
      min += 60;
      hour--;
    }
    if (hour < 0) {
      hour += 24;
      day--;
    }
    if (day < 0) {
      day += daysInMonth(c1.year, c1.month);
      month--;
    }
    if (month < 0) {
      month += 12;
      year--;
    }
    return [year, month, day, hour, min, sec];
  });
}

