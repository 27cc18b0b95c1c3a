import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, check, rowName, type Row } from './harness';
import { createBuiltinContext } from '../../src/builtins';
import { RegoSet, parseJSON, toJSONText } from '../../src/value';

const BUILTIN = 'eval_builtin_error';

const time: Row[] = [
  ['time.now_ns', '[]', '1700000000000000000'],
  ['time.parse_rfc3339_ns', '["1677-09-21T00:12:43.145224192-00:00"]', '-9223372036854775808'],
  ['time.parse_rfc3339_ns', '["2017-06-02T19:00:00-07:00"]', '1496455200000000000'],
  ['time.parse_rfc3339_ns', '["2262-04-11T23:47:16.854775808-00:00"]', { error: 'time outside of valid range', code: BUILTIN }],
  ['time.parse_ns', '["2006-01-02", "2020-02-29"]', '1582934400000000000'],
  ['time.parse_ns', '["Jan 2 2006 3:04PM MST", "Feb 5 2018 7:00AM UTC"]', '1517814000000000000'],
  ['time.parse_ns', '["2006-01-02", "2020-02-30"]', { error: 'day out of range', code: BUILTIN }],
  ['time.parse_duration_ns', '["1h2m3.5s"]', '3723500000000'],
  ['time.parse_duration_ns', '["100ms"]', '100000000'],
  ['time.parse_duration_ns', '["1x"]', { error: 'unknown unit', code: BUILTIN }],
  ['time.date', '[1517814000000000000]', '[2018, 2, 5]'],
  ['time.date', '[[1582977600000000000, ""]]', '[2020, 2, 29]'],
  ['time.clock', '[[1517832000000000000, "America/New_York"]]', '[7, 0, 0]'],
  ['time.clock', '[1582977600000000000000]', { error: 'timestamp too big', code: BUILTIN }],
  ['time.weekday', '[1518350400000000000]', '"Sunday"'],
  ['time.add_date', '[1585852421593912000, 3, 9, 12]', '1705257221593912000'],
  ['time.add_date', '[1585852421593912000, -1, -1, -1]', '1551465221593912000'],
  ['time.add_date', '[0, 2262, 1, 1]', { error: 'time outside of valid range', code: BUILTIN }],
  ['time.diff', '[1582934400000000000, 1583020800000000000]', '[0, 0, 1, 0, 0, 0]'],
  ['time.format', '[1670006453141828752]', '"2022-12-02T18:40:53.141828752Z"'],
  ['time.format', '[[1670006453141828752, "Asia/Kolkata"]]', '"2022-12-03T00:10:53.141828752+05:30"'],
  ['time.format', '[[1670006453141828752, "Asia/Kolkata", "RFC1123Z"]]', '"Sat, 03 Dec 2022 00:10:53 +0530"'],
  ['time.format', '[[1670006453141828752, "UTC", "Monday 2 January 06 3:04:05.000 PM"]]', '"Friday 2 December 22 6:40:53.141 PM"'],
  ['time.format', '[[0, "Nowhere/City"]]', { error: 'unknown time zone Nowhere/City', code: BUILTIN }],
  // int64 limits: OPA's toSafeUnixNano bounds parsed times by time.Unix(0, MinInt64/MaxInt64).
  ['time.parse_rfc3339_ns', '["2262-04-11T23:47:16.854775807Z"]', '9223372036854775807'],
  ['time.parse_rfc3339_ns', '["2262-04-12T00:47:16.854775807+01:00"]', '9223372036854775807'],
  ['time.parse_rfc3339_ns', '["2262-04-11T23:47:16.854775807999Z"]', '9223372036854775807'],
  ['time.parse_rfc3339_ns', '["2262-04-11T23:47:16.854775807-00:01"]', { error: 'time.parse_rfc3339_ns: time outside of valid range', code: BUILTIN }],
  ['time.parse_rfc3339_ns', '["1677-09-21T00:12:43.1452241915Z"]', { error: 'time outside of valid range', code: BUILTIN }],
  ['time.parse_rfc3339_ns', '["0001-01-01T00:00:00Z"]', { error: 'time outside of valid range', code: BUILTIN }],
  ['time.parse_ns', '["2006-01-02T15:04:05.999999999Z07:00", "2262-04-11T23:47:16.854775807Z"]', '9223372036854775807'],
  ['time.parse_ns', '["2006-01-02T15:04:05.999999999Z07:00", "1677-09-21T00:12:43.145224192Z"]', '-9223372036854775808'],
  ['time.parse_ns', '["2006-01-02T15:04:05.999999999Z07:00", "2262-04-11T23:47:16.854775808Z"]', { error: 'time.parse_ns: time outside of valid range', code: BUILTIN }],
  ['time.parse_ns', '["2006-01-02", "9999-12-31"]', { error: 'time outside of valid range', code: BUILTIN }],
  // A layout without a year parses as year 0, outside the range too.
  ['time.parse_ns', '["Jan _2 15:04:05", "Apr 11 23:47:16"]', { error: 'time outside of valid range', code: BUILTIN }],
  // Only OPA's acceptedTimeFormats names stand for layouts; others are layouts themselves.
  ['time.parse_ns', '["RFC3339", "2262-04-11T23:47:16Z"]', '9223372036000000000'],
  ['time.parse_ns', '["RFC822Z", "02 Jan 06 15:04 -0700"]', '1136239440000000000'],
  ['time.parse_ns', '["Kitchen", "3:04PM"]', { error: 'parsing time "3:04PM" as "Kitchen": cannot parse "3:04PM" as "Kitchen"', code: BUILTIN }],
  ['time.format', '[[1, "UTC", "Kitchen"]]', '"Kitchen"'],
  ['time.format', '[[1, "UTC", ""]]', '"1970-01-01T00:00:00.000000001Z"'],
  // Go's ParseDuration sums magnitudes as uint64 up to 2^63: the least int64 parses, its negation does not.
  ['time.parse_duration_ns', '["9223372036854775807ns"]', '9223372036854775807'],
  ['time.parse_duration_ns', '["-9223372036854775808ns"]', '-9223372036854775808'],
  ['time.parse_duration_ns', '["-2562047h47m16.854775808s"]', '-9223372036854775808'],
  ['time.parse_duration_ns', '["-9223372036854775807ns1ns"]', '-9223372036854775808'],
  ['time.parse_duration_ns', '["9223372036854775808ns"]', { error: 'time.parse_duration_ns: time: invalid duration "9223372036854775808ns"', code: BUILTIN }],
  ['time.parse_duration_ns', '["2562047h47m16.854775808s"]', { error: 'time: invalid duration "2562047h47m16.854775808s"', code: BUILTIN }],
  ['time.parse_duration_ns', '["-9223372036854775809ns"]', { error: 'time: invalid duration "-9223372036854775809ns"', code: BUILTIN }],
  ['time.parse_duration_ns', '["-9223372036854775807ns2ns"]', { error: 'time: invalid duration "-9223372036854775807ns2ns"', code: BUILTIN }],
  ['time.parse_duration_ns', '["2562048h"]', { error: 'time: invalid duration "2562048h"', code: BUILTIN }],
  // Fraction digits past int64 precision are dropped, not an overflow.
  ['time.parse_duration_ns', '["9223372036854775807.5ns"]', '9223372036854775807'],
  ['time.parse_duration_ns', '["0.92233720368547758079999s"]', '922337203'],
  ['time.parse_duration_ns', '[".5s"]', '500000000'],
  ['time.parse_duration_ns', '["1.h"]', '3600000000000'],
  ['time.parse_duration_ns', '[".s"]', { error: 'time: invalid duration ".s"', code: BUILTIN }],
  ['time.parse_duration_ns', '["1.5.5s"]', { error: 'time: missing unit in duration "1.5.5s"', code: BUILTIN }],
  // The time package quotes non-ASCII bytes as \xNN.
  ['time.parse_duration_ns', '["1µx"]', { error: 'time: unknown unit "\\xc2\\xb5x" in duration "1\\xc2\\xb5x"', code: BUILTIN }],
  ['time.parse_duration_ns', '["1.5µs"]', '1500'],
  // Timestamps must be exact int64s: big.Float.Int64 is not Exact for fractions either.
  ['time.date', '[1.5]', { error: 'time.date: timestamp too big', code: BUILTIN }],
  ['time.clock', '[[-9223372036854775808, "UTC"]]', '[0, 12, 43]'],
  ['time.date', '[9223372036854775807]', '[2262, 4, 11]'],
  ['time.date', '[9223372036854775808]', { error: 'timestamp too big', code: BUILTIN }],
  ['time.date', '[[]]', { error: 'time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got array', code: 'eval_type_error' }],
  ['time.diff', '[0, [0, 5]]', { error: 'time.diff: operand 1 must be string but got number', code: 'eval_type_error' }],
];

const units: Row[] = [
  ['units.parse', '["1.1Ki"]', '1126.4'],
  ['units.parse', '["500m"]', '0.5'],
  ['units.parse', '["10E"]', '10000000000000000000'],
  ['units.parse', '["-3.5E2m"]', '-0.35'],
  ['units.parse', '["\\"100TI\\""]', '109951162777600'],
  ['units.parse', '[""]', { error: 'units.parse: no amount provided', code: BUILTIN }],
  ['units.parse', '["0.0.0"]', { error: 'could not parse amount to a number', code: BUILTIN }],
  ['units.parse', '["100 k"]', { error: 'spaces not allowed in resource strings', code: BUILTIN }],
  ['units.parse_bytes', '["1.1KiB"]', '1126'],
  ['units.parse_bytes', '["10eib"]', '11529215046068469760'],
  ['units.parse_bytes', '["1e-2KB"]', '10'],
  ['units.parse_bytes', '["8kb"]', '8000'],
  ['units.parse_bytes', '["5E"]', '5000000000000000000'],
];

const net: Row[] = [
  ['net.cidr_contains', '["10.0.0.0/8", "10.1.2.3"]', 'true'],
  ['net.cidr_contains', '["10.0.0.0/8", "192.168.1.0/24"]', 'false'],
  ['net.cidr_contains', '["2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40"]', 'true'],
  ['net.cidr_contains', '["2001:4860::/96", "2001:4860::/32"]', 'false'],
  ['net.cidr_contains', '["not-a-cidr", "1.1.1.1"]', { error: 'invalid CIDR address: not-a-cidr', code: BUILTIN }],
  ['net.cidr_intersects', '["192.168.1.0/25", "192.168.1.64/25"]', 'true'],
  ['net.cidr_intersects', '["fd1e:5bfe:8af3:9ddc::/64", "2001:4860:4860::8888/32"]', 'false'],
  ['net.cidr_is_valid', '["2002::1234:abcd:ffff:c0a8:101/64"]', 'true'],
  ['net.cidr_is_valid', '["192.168.1.2"]', 'false'],
  ['net.cidr_expand', '["192.168.1.1/30"]', '["192.168.1.0", "192.168.1.1", "192.168.1.2", "192.168.1.3"]'],
  ['net.cidr_expand', '["192.168.1.1/33"]', { error: 'invalid CIDR address: 192.168.1.1/33', code: BUILTIN }],
  ['net.cidr_merge', '[["192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"]]', '["192.0.2.112/29"]'],
  ['net.cidr_merge', '[["192.0.2.112/31", "192.0.2.116/31", "192.0.2.118/31"]]', '["192.0.2.112/31", "192.0.2.116/30"]'],
  ['net.cidr_merge', '[["192.0.128.0", "192.0.129.0"]]', '["192.0.128.0/23"]'],
  ['net.cidr_merge', '[["::/0", "fe80::1/128"]]', '["::/0"]'],
  ['net.cidr_merge', '[["2601:600:8a80:207e:a57d:7567:e2c9:e7b3"]]', { error: 'IPv6 invalid: needs prefix length', code: BUILTIN }],
  ['net.cidr_contains_matches', '[["1.1.2.0/24", "1.1.1.0/24"], ["1.1.1.1", "1.1.2.1"]]', '[[0, 1], [1, 0]]'],
  ['net.lookup_ip_addr', '["10.0.0.1"]', '["10.0.0.1"]'],
  ['net.lookup_ip_addr', '["::"]', '["::"]'],
  ['net.cidr_contains_matches', '[["1.1.2.0/24"], ["1.1.1.1", 5]]', { error: 'operand 2: element must be string or non-empty array', code: BUILTIN }],
];

const crypto: Row[] = [
  ['crypto.md5', '["hello"]', '"5d41402abc4b2a76b9719d911017c592"'],
  ['crypto.sha1', '["hello"]', '"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"'],
  ['crypto.sha256', '["hello"]', '"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"'],
  ['crypto.hmac.sha256', '["hello", "key"]', JSON.stringify(createHmac('sha256', 'key').update('hello').digest('hex'))],
  ['crypto.hmac.equal', '["abc", "abc"]', 'true'],
  ['crypto.hmac.equal', '["abc", "abd"]', 'false'],
];

const HS_TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwiaXNzIjoib3BhIn0.XmVoLoHI3pxMtMO_WRONMSJzGUDP9pDjy8Jp0_tdRXY';

const jwt: Row[] = [
  ['io.jwt.decode', `["${HS_TOKEN}"]`, '[{"alg": "HS256", "typ": "JWT"}, {"iss": "opa", "sub": "0"}, "5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576"]'],
  ['io.jwt.decode', '["abc"]', { error: 'encoded JWT had no period separators', code: BUILTIN }],
  ['io.jwt.decode', '["a.b"]', { error: 'encoded JWT must have 3 sections, found 2', code: BUILTIN }],
  ['io.jwt.decode', '["eyJhbGciOiJIU^%zI1NiI.e30.e30"]', { error: 'JWT header had invalid encoding: illegal base64 data at input byte 13', code: BUILTIN }],
  ['io.jwt.verify_hs256', `["${HS_TOKEN}", "wrong"]`, 'false'],
  ['io.jwt.encode_sign_raw', '["{\\"alg\\":\\"dummy\\"}", "{}", "{\\"kty\\":\\"oct\\",\\"k\\":\\"AA\\"}"]', { error: 'unknown JWS algorithm: dummy', code: BUILTIN }],
  ['io.jwt.encode_sign_raw', '["{\\"typ\\":\\"JWT\\",\\"alg\\":\\"HS256\\"}", "e", "{\\"kty\\":\\"oct\\",\\"k\\":\\"AA\\"}"]', { error: 'type is JWT but payload is not JSON', code: BUILTIN }],
];

describe('time', () => {
  it.each(time.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('units', () => {
  it.each(units.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('net', () => {
  it.each(net.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('crypto', () => {
  it.each(crypto.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('io.jwt', () => {
  it.each(jwt.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));

  const key = { kty: 'oct', k: Buffer.from('secret').toString('base64url') };
  const sign = (payload: object): string =>
    call('io.jwt.encode_sign', [parseJSON('{"alg":"HS256","typ":"JWT"}'), parseJSON(JSON.stringify(payload)), parseJSON(JSON.stringify(key))]) as string;

  it('signs HS256 tokens that verify with the same secret', () => {
    const token = sign({ iss: 'opa', sub: 'x' });
    expect(token.split('.')[0]).toBe('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9');
    expect(call('io.jwt.verify_hs256', [token, 'secret'])).toBe(true);
  });

  it('decode_verify checks signature, alg, iss, aud, exp and nbf', () => {
    const token = sign({ iss: 'opa', aud: 'svc', exp: 1_700_000_100, nbf: 1_699_999_900 });
    const c = (json: object): string => toJSONText(call('io.jwt.decode_verify', [token, parseJSON(JSON.stringify(json))])!);
    expect(c({ secret: 'secret', aud: 'svc', iss: 'opa' })).toBe('[true,{"alg":"HS256","typ":"JWT"},{"aud":"svc","exp":1700000100,"iss":"opa","nbf":1699999900}]');
    expect(c({ secret: 'wrong', aud: 'svc' })).toBe('[false,{},{}]');
    expect(c({ secret: 'secret' })).toBe('[false,{},{}]');
    expect(c({ secret: 'secret', aud: 'svc', iss: 'other' })).toBe('[false,{},{}]');
    expect(c({ secret: 'secret', aud: 'svc', alg: 'RS256' })).toBe('[false,{},{}]');
    expect(c({ secret: 'secret', aud: 'svc', time: 1_700_000_100_000_000_000 })).toBe('[false,{},{}]');
    expect(c({ secret: 'secret', aud: 'svc', time: 1_699_999_899_000_000_000 })).toBe('[false,{},{}]');
  });

  it('decode_verify rejects non-numeric exp with a built-in error', () => {
    const token = sign({ exp: null });
    expect(() => call('io.jwt.decode_verify', [token, parseJSON('{"secret":"secret"}')])).toThrow('exp value must be a number');
  });
});

describe('crypto.x509 and private keys', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();

  it('parses RSA private keys to JWKs', () => {
    const jwk = call('crypto.x509.parse_rsa_private_key', [pem]) as import('../../src/value').RegoObject;
    expect(jwk.get('kty')).toBe('RSA');
    expect(typeof jwk.get('d')).toBe('string');
    expect((call('crypto.parse_private_keys', [Buffer.from(pem).toString('base64')]) as unknown[]).length).toBe(1);
    expect(call('crypto.parse_private_keys', [''])).toBeNull();
    expect(toJSONText(call('crypto.parse_private_keys', ['nope'])!)).toBe('[]');
  });

  it('reports bad certificate input as Go does', () => {
    expect(() => call('crypto.x509.parse_certificates', ['foobar'])).toThrow('illegal base64 data at input byte 4');
    expect(() => call('crypto.x509.parse_certificate_request', ['YmFkc3RyaW5n'])).toThrow('asn1: structure error');
  });
});

describe('http.send', () => {
  it('rejects unknown and missing request parameters with type errors', () => {
    expect(() => call('http.send', [parseJSON('{"method": "get", "url": "http://127.0.0.1:1", "bad_key": 1}')])).toThrow(
      'http.send: invalid request parameters(s): {"bad_key"}',
    );
    expect(() => call('http.send', [parseJSON('{"method": "get"}')])).toThrow('missing required request parameters(s): {"url"}');
  });
});

describe('providers.aws.sign_req', () => {
  const cfg = '{"aws_access_key": "MYAWSACCESSKEYGOESHERE", "aws_secret_access_key": "MYAWSSECRETACCESSKEYGOESHERE", "aws_service": "s3", "aws_region": "us-east-1"}';
  it('signs a request with SigV4 as OPA does', () => {
    const got = call('providers.aws.sign_req', [parseJSON('{"method": "get", "url": "http://example.com"}'), parseJSON(cfg), 1451311705000000000]);
    expect(toJSONText(got!)).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=0047a7016c81e5c7f29cd522f97e911e04fc472fced0aee7916cbc287ad6c8e3');
  });
  it('names missing configuration keys', () => {
    expect(() => call('providers.aws.sign_req', [parseJSON('{}'), parseJSON(cfg), 0])).toThrow('operand 1 missing required request parameters(s): {"method", "url"}');
  });
});

describe('rego.parse_module', () => {
  it("answers the module's AST in OPA's JSON shape", () => {
    const ast = call('rego.parse_module', ['x.rego', 'package foo.bar\n\nimport data.a\n\np if { a = true }']) as import('../../src/value').RegoObject;
    expect(toJSONText((ast.get('package') as import('../../src/value').RegoObject).get('path')!)).toBe(
      '[{"type":"var","value":"data"},{"type":"string","value":"foo"},{"type":"string","value":"bar"}]',
    );
    expect((ast.get('rules') as unknown[]).length).toBe(1);
  });
  it('reports parse errors as built-in errors with the rego_parse_error text', () => {
    expect(() => call('rego.parse_module', ['x.rego', 'package foo.'])).toThrow('rego_parse_error');
  });
});

describe('opa.runtime, trace and print', () => {
  it('opa.runtime exposes the environment it was given', () => {
    expect(toJSONText(call('opa.runtime', [])!)).toBe('{"env":{"HOME":"/root"}}');
  });
  it('print and trace hand their text to the sinks and succeed', () => {
    const lines: string[] = [];
    const c = createBuiltinContext({ print: (m) => lines.push(m), trace: (m) => lines.push('trace: ' + m), env: {} });
    expect(call('print', [new RegoSet(['a']), new RegoSet(), new RegoSet([1])], c)).toBe(true);
    expect(call('trace', ['note'], c)).toBe(true);
    expect(lines).toEqual(['a <undefined> 1', 'trace: note']);
  });
});

