import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseTraceparent } from '@cloud-stack/service-kit';
import { inspectRequest, isDefect, readCorrelation, stripHopByHop, verifyGatewaySignature } from '../src/index';

function req(url: string, rawHeaders: string[] = ['Host', 'api.example.com']): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] ??= rawHeaders[i + 1]!;
  return { url, rawHeaders, headers } as unknown as IncomingMessage;
}

describe('inspectRequest', () => {
  it.each([
    ['/api/v1/agents', '/api/v1/agents'],
    ['/api/%61dmin/x', '/api/admin/x'],
    ['/api/caf%c3%a9', '/api/caf%C3%A9'],
    ['/api/a%7Eb', '/api/a~b'],
    ['/', '/'],
    ['/api/trailing/', '/api/trailing/'],
  ])('normalises %s to %s', (url, path) => {
    const r = inspectRequest(req(url), 1000);
    expect(isDefect(r)).toBe(false);
    expect(!isDefect(r) && r.path).toBe(path);
  });

  it.each([
    ['/a/../b', 'dot segments'],
    ['/a/%2E/b', 'dot segments'],
    ['/a/%2f', 'encoded slashes'],
    ['/a%25', 'double-encoded'],
    ['/a%zz', 'malformed percent-encoding'],
    ['/a;b', 'path parameters'],
    ['/a/%3b', 'path parameters'],
    ['/a//b', 'empty path segments'],
    ['http://evil.example/x', 'request target must be a path'],
    ['/a b', 'must be percent-encoded'],
  ])('refuses %s (%s)', (url, why) => {
    const r = inspectRequest(req(url), 1000);
    expect(isDefect(r) && r.status).toBe(400);
    expect(isDefect(r) && r.detail).toContain(why);
  });

  it('keeps the query as received and the host without port or case', () => {
    const r = inspectRequest(req('/x?a=%2F&b=..', ['Host', 'API.Example.com:8080']), 1000);
    expect(r).toEqual({ path: '/x', query: '?a=%2F&b=..', host: 'api.example.com', authority: 'api.example.com:8080' });
  });

  it('refuses ambiguous framing and oversized declared bodies', () => {
    expect(inspectRequest(req('/', ['Host', 'a', 'Host', 'b']), 10)).toMatchObject({ status: 400 });
    expect(inspectRequest(req('/', []), 10)).toMatchObject({ status: 400 });
    expect(inspectRequest(req('/', ['Host', 'a', 'Content-Length', '1', 'content-length', '1']), 10)).toMatchObject({ status: 400 });
    expect(inspectRequest(req('/', ['Host', 'a', 'Content-Length', '1', 'Transfer-Encoding', 'chunked']), 10)).toMatchObject({ status: 400 });
    expect(inspectRequest(req('/', ['Host', 'a', 'Transfer-Encoding', 'gzip']), 10)).toMatchObject({ status: 501 });
    expect(inspectRequest(req('/', ['Host', 'a', 'Content-Length', '11']), 10)).toMatchObject({ status: 413 });
    expect(inspectRequest(req('/', ['Host', 'a b']), 10)).toMatchObject({ status: 400 });
  });
});

describe('correlation', () => {
  it('keeps well-formed ids and the caller trace, replaces the rest', () => {
    const kept = readCorrelation({ 'x-correlation-id': 'abc-1', 'x-causation-id': 'c:2', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(kept).toMatchObject({ correlationId: 'abc-1', causationId: 'c:2', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(kept.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    const replaced = readCorrelation({ 'x-correlation-id': 'bad id\r\nx', 'x-causation-id': '<script>', traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' });
    expect(replaced.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.causationId).toBeNull();
    expect(replaced.traceId).not.toBe('00000000000000000000000000000000');
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
  });
});

describe('upstream headers', () => {
  it('drops hop-by-hop headers and those Connection names', () => {
    const h: Record<string, string> = { connection: 'keep-alive, x-secret', 'x-secret': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'content-type': 'a/b' };
    stripHopByHop(h);
    expect(h).toEqual({ 'content-type': 'a/b' });
  });

  it('verifies only an intact, fresh gateway signature', async () => {
    const { createHmac } = await import('node:crypto');
    const t = String(Math.floor(Date.now() / 1000));
    const fields = ['u1', 't1', 'c1', 'viewer', 'a1', 'false', 'false', 'corr'];
    const text = [t, 'GET', '/x', ...fields].join('\n');
    const headers = {
      'x-user-id': 'u1',
      'x-tenant-id': 't1',
      'x-client-id': 'c1',
      'x-user-roles': 'viewer',
      'x-agent-id': 'a1',
      'x-trial-mode': 'false',
      'x-is-governor': 'false',
      'x-correlation-id': 'corr',
      'x-gateway-signature': `t=${t},v1=${createHmac('sha256', 'k').update(text).digest('hex')}`,
    };
    expect(verifyGatewaySignature(headers, 'GET', '/x', 'k')).toBe(true);
    expect(verifyGatewaySignature(headers, 'GET', '/y', 'k')).toBe(false);
    expect(verifyGatewaySignature({ ...headers, 'x-tenant-id': 't2' }, 'GET', '/x', 'k')).toBe(false);
    expect(verifyGatewaySignature(headers, 'GET', '/x', 'other')).toBe(false);
    expect(verifyGatewaySignature(headers, 'GET', '/x', 'k', 60, Date.now() + 120_000)).toBe(false);
    expect(verifyGatewaySignature({ ...headers, 'x-gateway-signature': 'garbage' }, 'GET', '/x', 'k')).toBe(false);
  });
});
