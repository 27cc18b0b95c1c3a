/**
 * The parts of Go's time package OPA's time built-ins expose: civil dates from Unix
 * nanoseconds in a zone, and Go's reference-time layouts ("2006-01-02T15:04:05Z07:00") for
 * formatting and parsing. Nanoseconds are bigints: int64 nanoseconds exceed 2^53.
 */
import { BuiltinError } from './registry';

export const NS_PER_S = 1_000_000_000n;
export const MIN_NS = -(2n ** 63n);
export const MAX_NS = 2n ** 63n - 1n;

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [y + (m <= 2 ? 1 : 0), m, d];
}

export function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

/** A moment seen in a zone. */
export interface Civil {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanos: number;
  readonly weekday: number; // 0 = Sunday
  readonly yday: number; // 1..366
  readonly offset: number; // seconds east of UTC
  readonly zoneName: string;
}

const offsetCache = new Map<string, Intl.DateTimeFormat>();

/** A resolved time zone: Go's time.LoadLocation names; "" and "UTC" are UTC. */
export interface Zone {
  readonly name: string;
  offsetAt(unixSeconds: number): { offset: number; abbr: string };
}

export const UTC: Zone = { name: 'UTC', offsetAt: () => ({ offset: 0, abbr: 'UTC' }) };

export function fixedZone(name: string, offset: number): Zone {
  return { name, offsetAt: () => ({ offset, abbr: name }) };
}

export function loadZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') {
    return {
      name: 'Local',
      offsetAt: (s) => {
        const off = -new Date(s * 1000).getTimezoneOffset() * 60;
        return { offset: off, abbr: abbrFor(off) };
      },
    };
  }
  let fmt = offsetCache.get(name);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset', year: 'numeric' });
    } catch {
      throw new BuiltinError(`unknown time zone ${name}`);
    }
    offsetCache.set(name, fmt);
  }
  const f = fmt;
  return {
    name,
    offsetAt: (s) => {
      // Intl handles years 1..9999 reliably; clamp the instant for zone lookup only.
      const clamped = Math.min(Math.max(s, -62135596800), 253402300799);
      const part = f.formatToParts(new Date(clamped * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
      const off = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
      return { offset: off, abbr: abbrFor(off) };
    },
  };
}

function abbrFor(off: number): string {
  if (off === 0) return 'UTC';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return m === 0 ? `${sign}${String(h).padStart(2, '0')}` : `${sign}${String(h).padStart(2, '0')}${String(m).padStart(2, '0')}`;
}

export function toCivil(ns: bigint, zone: Zone): Civil {
  let secs = ns / NS_PER_S;
  let nanos = Number(ns % NS_PER_S);
  if (nanos < 0) {
    nanos += 1e9;
    secs -= 1n;
  }
  const { offset, abbr } = zone.offsetAt(Number(secs));
  const local = Number(secs) + offset;
  const days = Math.floor(local / 86400);
  const sod = local - days * 86400;
  const [year, month, day] = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(sod / 3600),
    minute: Math.floor((sod % 3600) / 60),
    second: sod % 60,
    nanos,
    weekday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1) + 1,
    offset,
    zoneName: zone === UTC ? 'UTC' : abbr,
  };
}

// ---- layouts ----

type Std =
  | 'January' | 'Jan' | 'Monday' | 'Mon' | 'MST'
  | '1' | '01' | '2' | '02' | '_2' | '__2' | '002'
  | '15' | '3' | '03' | '4' | '04' | '5' | '05'
  | '2006' | '06' | 'PM' | 'pm'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07'
  | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07';

type Chunk = { lit: string } | { std: Std } | { frac: '0' | '9'; digits: number; sep: string };

const LAYOUT_CACHE = new Map<string, Chunk[]>();

/** Splits a layout into literal text and standard chunks (Go's nextStdChunk). */
export function parseLayout(layout: string): Chunk[] {
  const hit = LAYOUT_CACHE.get(layout);
  if (hit) return hit;
  const out: Chunk[] = [];
  let lit = '';
  const push = (c: Chunk): void => {
    if (lit) out.push({ lit });
    lit = '';
    out.push(c);
  };
  let i = 0;
  const s = layout;
  const at = (p: string): boolean => s.startsWith(p, i);
  while (i < s.length) {
    const c = s[i]!;
    let std: Std | undefined;
    switch (c) {
      case 'J':
        if (at('January')) std = 'January';
        else if (at('Jan')) std = 'Jan';
        break;
      case 'M':
        if (at('Monday')) std = 'Monday';
        else if (at('Mon')) std = 'Mon';
        else if (at('MST')) std = 'MST';
        break;
      case '0':
        if (/[1-6]/.test(s[i + 1] ?? '')) std = ('0' + s[i + 1]) as Std;
        else if (at('002')) std = '002';
        break;
      case '1':
        std = at('15') ? '15' : '1';
        break;
      case '2':
        if (at('2006')) std = '2006';
        else std = '2';
        break;
      case '_':
        if (at('_2')) {
          if (at('_2006')) {
            // "_2006" is a literal underscore followed by the year.
            lit += '_';
            i++;
            continue;
          }
          std = '_2';
        } else if (at('__2')) std = '__2';
        break;
      case '3':
      case '4':
      case '5':
        std = c;
        break;
      case 'P':
        if (at('PM')) std = 'PM';
        break;
      case 'p':
        if (at('pm')) std = 'pm';
        break;
      case '-':
        for (const z of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const) {
          if (at(z)) {
            std = z;
            break;
          }
        }
        break;
      case 'Z':
        for (const z of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const) {
          if (at(z)) {
            std = z;
            break;
          }
        }
        break;
      case '.':
      case ',': {
        const d = s[i + 1];
        if (d === '0' || d === '9') {
          let j = i + 1;
          while (s[j] === d) j++;
          // Only a fraction when not followed by another digit.
          if (!/[0-9]/.test(s[j] ?? '')) {
            push({ frac: d, digits: j - i - 1, sep: c });
            i = j;
            continue;
          }
        }
        break;
      }
    }
    if (std) {
      push({ std });
      i += std.length;
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) out.push({ lit });
  LAYOUT_CACHE.set(layout, out);
  return out;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function zoneText(off: number, std: Std): string {
  if (std.startsWith('Z') && off === 0) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const sec = pad(a % 60, 2);
  switch (std.replace('Z', '-')) {
    case '-070000':
      return sign + h + m + sec;
    case '-07:00:00':
      return `${sign}${h}:${m}:${sec}`;
    case '-0700':
      return sign + h + m;
    case '-07:00':
      return `${sign}${h}:${m}`;
    default:
      return sign + h;
  }
}

export function formatTime(c: Civil, layout: string): string {
  let out = '';
  for (const ch of parseLayout(layout)) {
    if ('lit' in ch) {
      out += ch.lit;
      continue;
    }
    if ('frac' in ch) {
      let digits = pad(c.nanos, 9).slice(0, ch.digits);
      if (ch.frac === '9') {
        digits = digits.replace(/0+$/, '');
        if (digits) out += '.' + digits;
      } else out += ch.sep + digits;
      continue;
    }
    const h12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
    switch (ch.std) {
      case 'January':
        out += MONTHS[c.month - 1];
        break;
      case 'Jan':
        out += MONTHS[c.month - 1]!.slice(0, 3);
        break;
      case 'Monday':
        out += DAYS[c.weekday];
        break;
      case 'Mon':
        out += DAYS[c.weekday]!.slice(0, 3);
        break;
      case 'MST':
        out += c.zoneName;
        break;
      case '1':
        out += c.month;
        break;
      case '01':
        out += pad(c.month, 2);
        break;
      case '2':
        out += c.day;
        break;
      case '02':
        out += pad(c.day, 2);
        break;
      case '_2':
        out += String(c.day).padStart(2, ' ');
        break;
      case '__2':
        out += String(c.yday).padStart(3, ' ');
        break;
      case '002':
        out += pad(c.yday, 3);
        break;
      case '15':
        out += pad(c.hour, 2);
        break;
      case '3':
        out += h12;
        break;
      case '03':
        out += pad(h12, 2);
        break;
      case '4':
        out += c.minute;
        break;
      case '04':
        out += pad(c.minute, 2);
        break;
      case '5':
        out += c.second;
        break;
      case '05':
        out += pad(c.second, 2);
        break;
      case '2006':
        out += c.year < 0 ? '-' + pad(-c.year, 4) : pad(c.year, 4);
        break;
      case '06':
        out += pad(((c.year % 100) + 100) % 100, 2);
        break;
      case 'PM':
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      default:
        out += zoneText(c.offset, ch.std);
    }
  }
  return out;
}

function parseErr(value: string, layout: string, elem: string, rest: string, msg = ''): BuiltinError {
  return new BuiltinError(`parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(rest)} as ${goQuote(elem)}${msg}`);
}

/** Go's time.Parse: returns Unix nanoseconds. Without zone information the time is UTC. */
export function parseTime(layout: string, value: string, defaultZone: Zone = UTC): bigint {
  let rest = value;
  let year = 1;
  let month = 1;
  let day = 1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  const take = (re: RegExp, elem: string): string => {
    const m = re.exec(rest);
    if (!m) throw parseErr(value, layout, elem, rest);
    rest = rest.slice(m[0].length);
    return m[0];
  };
  const num = (re: RegExp, elem: string, lo: number, hi: number, what: string): number => {
    const n = Number(take(re, elem));
    if (n < lo || n > hi) throw new BuiltinError(`parsing time ${goQuote(value)}: ${what} out of range`);
    return n;
  };
  for (const ch of parseLayout(layout)) {
    if ('lit' in ch) {
      if (!rest.startsWith(ch.lit)) throw parseErr(value, layout, ch.lit, rest);
      rest = rest.slice(ch.lit.length);
      continue;
    }
    if ('frac' in ch) {
      const m = /^[.,](\d+)/.exec(rest);
      if (ch.frac === '0') {
        const want = new RegExp(`^[.,]\\d{${ch.digits}}`);
        const mm = want.exec(rest);
        if (!mm) throw parseErr(value, layout, ch.sep + '0'.repeat(ch.digits), rest);
        nanos = Number(mm[0].slice(1).padEnd(9, '0').slice(0, 9));
        rest = rest.slice(mm[0].length);
      } else if (m) {
        nanos = Number(m[1]!.padEnd(9, '0').slice(0, 9));
        rest = rest.slice(m[0].length);
      }
      continue;
    }
    switch (ch.std) {
      case '2006':
        year = Number(take(/^\d{4}/, '2006'));
        break;
      case '06': {
        const y = Number(take(/^\d{2}/, '06'));
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'January':
      case 'Jan': {
        const names = ch.std === 'January' ? MONTHS : MONTHS.map((x) => x.slice(0, 3));
        const idx = names.findIndex((n) => rest.toLowerCase().startsWith(n.toLowerCase()));
        if (idx < 0) throw parseErr(value, layout, ch.std, rest);
        month = idx + 1;
        rest = rest.slice(names[idx]!.length);
        break;
      }
      case 'Monday':
      case 'Mon': {
        const names = ch.std === 'Monday' ? DAYS : DAYS.map((x) => x.slice(0, 3));
        const idx = names.findIndex((n) => rest.toLowerCase().startsWith(n.toLowerCase()));
        if (idx < 0) throw parseErr(value, layout, ch.std, rest);
        rest = rest.slice(names[idx]!.length);
        break;
      }
      case '1':
      case '01':
        month = num(ch.std === '01' ? /^\d{2}/ : /^\d{1,2}/, ch.std, 1, 12, 'month');
        break;
      case '2':
      case '02':
      case '_2':
        if (ch.std === '_2' && rest[0] === ' ') rest = rest.slice(1);
        day = num(ch.std === '02' ? /^\d{2}/ : /^\d{1,2}/, ch.std, 1, 31, 'day');
        break;
      case '__2':
      case '002':
        rest = rest.replace(/^ {0,2}/, '');
        yday = num(/^\d{1,3}/, ch.std, 1, 366, 'day-of-year');
        break;
      case '15':
        hour = num(/^\d{1,2}/, '15', 0, 23, 'hour');
        break;
      case '3':
      case '03':
        hour = num(ch.std === '03' ? /^\d{2}/ : /^\d{1,2}/, ch.std, 0, 12, 'hour');
        break;
      case '4':
      case '04':
        minute = num(ch.std === '04' ? /^\d{2}/ : /^\d{1,2}/, ch.std, 0, 59, 'minute');
        break;
      case '5':
      case '05': {
        second = num(ch.std === '05' ? /^\d{2}/ : /^\d{1,2}/, ch.std, 0, 59, 'second');
        // Go accepts a fractional second after seconds even when the layout has none.
        const m = /^[.,](\d+)/.exec(rest);
        if (m && !parseLayout(layout).some((c) => 'frac' in c)) {
          nanos = Number(m[1]!.padEnd(9, '0').slice(0, 9));
          rest = rest.slice(m[0].length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const t = take(/^(AM|PM|am|pm)/, ch.std).toUpperCase();
        pm = t === 'PM';
        break;
      }
      case 'MST': {
        const t = take(/^(UTC|GMT([+-]\d{1,2})?|[A-Z]{3,5})/, 'MST');
        offset = t === 'UTC' || t === 'GMT' ? 0 : t.startsWith('GMT') ? Number(t.slice(3)) * 3600 : (offset ?? 0);
        break;
      }
      default: {
        if (ch.std.startsWith('Z') && rest[0] === 'Z') {
          rest = rest.slice(1);
          offset = 0;
          break;
        }
        const shape = ch.std.replace('Z', '-');
        const re =
          shape === '-070000' ? /^[+-]\d{6}/ : shape === '-07:00:00' ? /^[+-]\d{2}:\d{2}:\d{2}/ : shape === '-0700' ? /^[+-]\d{4}/ : shape === '-07:00' ? /^[+-]\d{2}:\d{2}/ : /^[+-]\d{2}/;
        const t = take(re, ch.std);
        const digits = t.slice(1).replace(/:/g, '');
        const h = Number(digits.slice(0, 2));
        const m = Number(digits.slice(2, 4) || '0');
        const sec = Number(digits.slice(4, 6) || '0');
        offset = (t[0] === '-' ? -1 : 1) * (h * 3600 + m * 60 + sec);
      }
    }
  }
  if (rest.length > 0) throw new BuiltinError(`parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`);
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  let days: number;
  if (yday >= 0) days = daysFromCivil(year, 1, 1) + yday - 1;
  else {
    if (day > daysInMonth(year, month)) throw new BuiltinError(`parsing time ${goQuote(value)}: day out of range`);
    days = daysFromCivil(year, month, day);
  }
  const localSecs = BigInt(days) * 86400n + BigInt(hour * 3600 + minute * 60 + second);
  let off = offset;
  if (off === undefined) off = defaultZone.offsetAt(Number(localSecs)).offset;
  return (localSecs - BigInt(off)) * NS_PER_S + BigInt(nanos);
}

/** Named layouts OPA accepts in time.format (Go's time package constants). */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

/**
 * The time package's own quote(): ASCII as Go would print it, with `"` and `\` escaped; control
 * characters and every byte of a non-ASCII character as \xNN (not strconv.Quote's \u escapes).
 */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c >= 0x80) {
      for (const b of new TextEncoder().encode(ch)) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return out + '"';
}

const TWO_63 = 2n ** 63n;

/**
 * Go's time.ParseDuration ("1h30m", "-1.5s", "300ms"), limits included: magnitudes are unsigned
 * and may reach 2^63 while summing, so -2^63ns (the least int64) parses and 2^63ns does not;
 * a fraction adds float64(f) * (unit / scale), truncated, as Go computes it.
 */
export function parseDuration(s: string): bigint {
  const orig = s;
  const bad = (): BuiltinError => new BuiltinError(`time: invalid duration ${goQuote(orig)}`);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw bad();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isAsciiDigit(s[0]!))) throw bad();
    // leadingInt: fails once the value would pass 2^63.
    let i = 0;
    let v = 0n;
    for (; i < s.length && isAsciiDigit(s[i]!); i++) {
      if (v > TWO_63 / 10n) throw bad();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO_63) throw bad();
    }
    const pre = i > 0;
    s = s.slice(i);
    // leadingFraction: past int64 precision further digits are skipped, not an error.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isAsciiDigit(s[j]!); j++) {
        if (overflow) continue;
        if (f > (TWO_63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > TWO_63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw bad();
    let k = 0;
    while (k < s.length && s[k] !== '.' && !isAsciiDigit(s[k]!)) k++;
    if (k === 0) throw new BuiltinError(`time: missing unit in duration ${goQuote(orig)}`);
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS[u];
    if (unit === undefined) throw new BuiltinError(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    if (v > TWO_63 / unit) throw bad();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) throw bad();
    }
    total += v;
    if (total > TWO_63) throw bad();
  }
  if (neg) return -total;
  if (total > MAX_NS) throw bad();
  return total;
}

const isAsciiDigit = (c: string): boolean => c >= '0' && c <= '9';
