/**
 * OPA v1/topdown/providers.go: providers.aws.sign_req, AWS Signature Version 4 for a
 * request object shaped like http.send's. The answer is the request with the signing
 * headers added (host, x-amz-date, x-amz-content-sha256, Authorization, and
 * x-amz-security-token when a session token is configured).
 */
import { createHash, createHmac } from 'node:crypto';
import type { BuiltinRegistry } from './registry';
import { termString } from './format';
import { toCivil, UTC } from './gotime';
import { def, operandErr, typeErr } from './utils';
import { BigNum, RegoObject, RegoSet, toJSONText, type Value } from '../value';

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest();

function requireStrings(o: RegoObject, keys: string[], pos: number, what: string): Record<string, string> {
  const missing = keys.filter((k) => !o.has(k));
  if (missing.length > 0) throw operandErr(pos, `missing required ${what} parameters(s): ${termString(new RegoSet(missing))}`);
  const invalid = keys.filter((k) => typeof o.get(k) !== 'string');
  if (invalid.length > 0) throw operandErr(pos, `invalid values for required ${what} parameters(s): ${termString(new RegoSet(invalid))}`);
  return Object.fromEntries(keys.map((k) => [k, o.get(k) as string]));
}

/** Headers a proxy may change, left out of the signature (as the AWS SDK does). */
const IGNORED = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

export function register(r: BuiltinRegistry): void {
  def(r, 'providers.aws.sign_req', 3, (args) => {
    const req = args[0]!;
    if (!(req instanceof RegoObject)) throw typeErr(1, req, 'object');
    const cfg = args[1]!;
    if (!(cfg instanceof RegoObject)) throw typeErr(2, cfg, 'object');
    const t = args[2]!;
    let ns: bigint;
    // OPA reads the operand as an int64 literal; negative times never come from now_ns.
    if (typeof t === 'number' && Number.isInteger(t) && t >= 0) ns = BigInt(t);
    else if (t instanceof BigNum && t.scale === 0 && t.int >= 0n && t.text === undefined) ns = t.int;
    else throw operandErr(3, 'could not convert time_ns value into a unix timestamp');

    const { method, url } = requireStrings(req, ['method', 'url'], 1, 'request');
    const aws = requireStrings(cfg, ['aws_access_key', 'aws_secret_access_key', 'aws_service', 'aws_region'], 2, 'AWS config');
    const token = cfg.get('aws_session_token');
    const dps = cfg.get('disable_payload_signing');
    if (dps !== undefined && typeof dps !== 'boolean') throw operandErr(2, "invalid value for 'disable_payload_signing' in AWS config");

    const u = new URL(url);
    const c = toCivil(ns, UTC);
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const date = `${c.year}${p2(c.month)}${p2(c.day)}`;
    const amzDate = `${date}T${p2(c.hour)}${p2(c.minute)}${p2(c.second)}Z`;
    const service = aws.aws_service!;

    const raw = req.get('raw_body');
    const body = req.get('body');
    const payload = typeof raw === 'string' ? raw : body !== undefined ? toJSONText(body) : '';
    const bodyHash = dps === true ? 'UNSIGNED-PAYLOAD' : sha256(payload);

    // OPA's AWSSignV4: its own headers, then the request's (which win when signing).
    const awsHeaders = new Map<string, string>([
      ['host', u.host],
      ['x-amz-date', amzDate],
    ]);
    if (service === 's3' || service === 'glacier') awsHeaders.set('x-amz-content-sha256', bodyHash);
    if (typeof token === 'string' && token !== '') awsHeaders.set('x-amz-security-token', token);
    const reqHeaders = new Map<string, string>();
    const given = req.get('headers');
    if (given instanceof RegoObject) {
      for (const [k, v] of given.entries()) if (typeof k === 'string') reqHeaders.set(k, typeof v === 'string' ? v : toJSONText(v));
    }
    const toSignHeaders = new Map(awsHeaders);
    for (const [k, v] of reqHeaders) if (!IGNORED.has(k.toLowerCase())) toSignHeaders.set(k.toLowerCase(), v);
    const keys = [...toSignHeaders.keys()].sort();
    const signedHeaders = keys.join(';');
    // Go's URL.EscapedPath and RawQuery: the path as written ('' when absent).
    const rawPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? '';
    const rawQuery = /\?([^#]*)/.exec(url)?.[1] ?? '';
    const canonicalRequest =
      `${method}\n${rawPath}\n${rawQuery}\n` +
      keys.map((k) => `${k}:${toSignHeaders.get(k)}\n`).join('') +
      `\n${signedHeaders}\n${bodyHash}`;
    const scope = `${date}/${aws.aws_region}/${service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonicalRequest)}`;
    let key = hmac('AWS4' + aws.aws_secret_access_key, date);
    key = hmac(key, aws.aws_region!);
    key = hmac(key, service);
    key = hmac(key, 'aws4_request');
    const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');

    const headers = new Map(reqHeaders);
    for (const [k, v] of awsHeaders) headers.set(k, v);
    headers.set('Authorization', `AWS4-HMAC-SHA256 Credential=${aws.aws_access_key}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`);
    const out = req.clone();
    out.set('headers', new RegoObject([...headers.entries()] as Array<[Value, Value]>));
    return out;
  });
}
