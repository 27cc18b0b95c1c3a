import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';
import { rawRequest } from '../../support/raw';

const stack = useGatewayStack({ routes: demoRoutes, gatewayEnv: { MAX_BODY_BYTES: String(1024 * 1024) } });

function get(path: string, token: string, extra = ''): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return rawRequest(stack.gatewayUrl, `GET ${path} HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer ${token}\r\n${extra}Connection: close\r\n\r\n`);
}

describe('gateway security: what must never get through', () => {
  it.each([
    ['/api/../api/admin/users', 'dot segments'],
    ['/api/./admin/users', 'dot segments'],
    ['/api/%2e%2e/api/admin/users', 'dot segments'],
    ['/api/%2E%2e/admin', 'dot segments'],
    ['/api/admin%2Fusers', 'encoded slashes'],
    ['/api/admin%5cusers', 'encoded slashes'],
    ['/api/public;x=1/../admin/users', 'path parameters'],
    ['/api/admin;jsessionid=1/users', 'path parameters'],
    ['/api/%252e%252e/admin', 'double-encoded'],
    ['/api//admin/users', 'empty path segments'],
    ['/api/%00/admin', 'control characters'],
    ['/api/admin\\users', 'must be percent-encoded'],
  ])('refuses %s with 400 (%s)', async (path, why) => {
    const res = await get(path, await stack.token('viewer@cloudstack.example'));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body).detail).toContain(why);
  });

  it('matches a percent-encoded spelling of a path as the path itself', async () => {
    const viewer = await stack.token('viewer@cloudstack.example');
    // `/api/%61dmin/…` is `/api/admin/…`: it must meet the admin route's permission, not the catch-all's.
    const res = await get('/api/%61dmin/users', viewer);
    expect(res.status).toBe(403);
    const admin = await get('/api/%61dmin/users', await stack.token('admin@cloudstack.example'));
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body).url).toBe('/v1/api/admin/users');
  });

  it('refuses duplicate or conflicting Host, Content-Length and Transfer-Encoding headers', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const send = (head: string) => rawRequest(stack.gatewayUrl, `POST /api/v1/agents HTTP/1.1\r\n${head}Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    const twoHosts = await send('Host: api.example.com\r\nHost: evil.example\r\n');
    expect(twoHosts.status).toBe(400);
    const twoLengths = await send('Host: a.example\r\nContent-Length: 0\r\nContent-Length: 0\r\n');
    expect(twoLengths.status).toBe(400);
    const conflicting = await rawRequest(
      stack.gatewayUrl,
      `POST /api/v1/agents HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    );
    expect(conflicting.status).toBe(400);
    const gzipTe = await send('Host: a.example\r\nTransfer-Encoding: gzip, chunked\r\n');
    expect([400, 501]).toContain(gzipTe.status);
    for (const r of [twoHosts, twoLengths, conflicting, gzipTe]) expect(r.headers['content-type']).toContain('application/problem+json');
    expect(stack.primary.seen.filter((e) => e.method === 'POST')).toHaveLength(0);
  });

  it('answers an oversized header with 431 and an oversized body with 413, as problem+json', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const big = await get('/api/v1/agents', token, `X-Padding: ${'a'.repeat(20_000)}\r\n`);
    expect(big.status).toBe(431);
    expect(big.headers['content-type']).toBe('application/problem+json');
    const declared = await rawRequest(
      stack.gatewayUrl,
      `POST /api/v1/agents HTTP/1.1\r\nHost: a.example\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${20 * 1024 * 1024}\r\nConnection: close\r\n\r\n`,
    );
    expect(declared.status).toBe(413);
  });

  it('stops a chunked body at the limit', async () => {
    const token = await stack.token('governor@cloudstack.example');
    let sent = 0;
    const res = await fetch(`${stack.gatewayUrl}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new ReadableStream({
        pull(controller) {
          if (sent >= 4) return controller.close();
          sent++;
          controller.enqueue(new Uint8Array(512 * 1024));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
