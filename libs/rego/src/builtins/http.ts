/**
 * OPA v1/topdown/http.go: http.send. Built-ins are synchronous here, so the request runs in
 * a short-lived child Node process (bounded by the request's timeout, default 5s). Answers
 * are cached per query and request, as OPA does. Request validation and its messages follow
 * OPA (eval_type_error for unknown or missing parameters).
 */
import { spawnSync } from 'node:child_process';
import type { BuiltinRegistry } from './registry';
import { BuiltinError, OperandError } from './registry';
import { parseDuration } from './gotime';
import { def, objectArg } from './utils';
import { termString } from './format';
import { BigNum, RegoObject, RegoSet, canonical, fromJSON, parseJSON, toJSON, toJSONText, type Value } from '../value';

const ALLOWED = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);
const REQUIRED = ['method', 'url'];

const CHILD = `
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const req = JSON.parse(input);
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: req.redirect ? 'follow' : 'manual' });
    const headers = {};
    res.headers.forEach((v, k) => { (headers[k] ??= []).push(v); });
    process.stdout.write(JSON.stringify({ status: res.status, statusText: res.statusText, headers, body: await res.text() }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e && e.cause ? e.cause.message || e.cause : e) }));
  }
});`;

interface ChildAnswer {
  status?: number;
  statusText?: string;
  headers?: Record<string, string[]>;
  body?: string;
  error?: string;
}

function validate(req: RegoObject): void {
  const bad = [...req.keys()].filter((k) => typeof k !== 'string' || !ALLOWED.has(k));
  if (bad.length > 0) throw new OperandError(`invalid request parameters(s): ${termString(new RegoSet(bad))}`);
  const missing = REQUIRED.filter((k) => !req.has(k));
  if (missing.length > 0) throw new OperandError(`missing required request parameters(s): ${termString(new RegoSet(missing))}`);
}

function send(req: RegoObject): Value {
  const method = String(req.get('method')).toUpperCase();
  const url = req.get('url');
  if (typeof url !== 'string') throw new BuiltinError('url must be a string');
  const headersV = req.get('headers');
  const headers: Record<string, string> = {};
  if (headersV instanceof RegoObject) for (const [k, v] of headersV.entries()) headers[String(k)] = typeof v === 'string' ? v : toJSONText(v);
  let body: string | undefined;
  const raw = req.get('raw_body');
  const b = req.get('body');
  if (typeof raw === 'string') body = raw;
  else if (b !== undefined && b !== null) {
    body = toJSONText(b);
    headers['Content-Type'] ??= 'application/json';
  }
  let timeoutMs = 5000;
  const t = req.get('timeout');
  if (typeof t === 'string') timeoutMs = Number(parseDuration(t) / 1_000_000n);
  else if (typeof t === 'number' || t instanceof BigNum) timeoutMs = Number(toJSON(t)) / 1e6;
  const out = spawnSync(process.execPath, ['-e', CHILD], {
    input: JSON.stringify({ url, method, headers, body, redirect: req.get('enable_redirect') === true }),
    timeout: Math.max(timeoutMs, 1) + 1000,
    encoding: 'utf8',
  });
  const ans: ChildAnswer = out.stdout ? (JSON.parse(out.stdout) as ChildAnswer) : { error: out.error ? String(out.error) : 'request timed out' };
  if (ans.error !== undefined) {
    if (req.get('raise_error') === false) {
      return RegoObject.fromRecord({ status_code: 0, error: RegoObject.fromRecord({ code: 'eval_http_send_network_error', message: ans.error }) });
    }
    throw new BuiltinError(`${method} ${url}: ${ans.error}`);
  }
  const respHeaders = fromJSON(ans.headers ?? {});
  const text = ans.body ?? '';
  const ct = (ans.headers?.['content-type'] ?? [])[0] ?? '';
  let parsed: Value = null;
  if (req.get('force_json_decode') === true || /json/.test(ct)) {
    try {
      parsed = parseJSON(text);
    } catch {
      parsed = null;
    }
  }
  return RegoObject.fromRecord({
    status: `${ans.status} ${ans.statusText ?? ''}`.trim(),
    status_code: ans.status ?? 0,
    body: parsed,
    raw_body: text,
    headers: respHeaders,
  });
}

export function register(r: BuiltinRegistry): void {
  def(
    r,
    'http.send',
    1,
    (args, ctx) => {
      const req = objectArg(args, 0);
      validate(req);
      const key = `http.send\u0000${canonical(req)}`;
      const hit = ctx.cache.get(key) as Value | undefined;
      if (hit !== undefined) return hit;
      const resp = send(req);
      ctx.cache.set(key, resp);
      return resp;
    },
    { nondeterministic: true },
  );
}
