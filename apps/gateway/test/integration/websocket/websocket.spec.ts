import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { demoRoutes, useGatewayStack } from '../../support/stack';

const stack = useGatewayStack({ routes: demoRoutes });

interface Upgraded {
  readonly head: string;
  /** Sends bytes on the upgraded connection and resolves with what comes back. */
  echo(text: string): Promise<string>;
  close(): void;
}

/** Opens a connection, sends an upgrade request, resolves once the response head is in. */
function upgrade(path: string, headers: Record<string, string>): Promise<Upgraded> {
  const { port } = new URL(stack.gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    const onData = (c: Buffer) => {
      data += c.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = data.slice(0, end);
      const rest = data.slice(end + 4);
      resolve({
        head: rest && !head.startsWith('HTTP/1.1 101') ? `${head}\r\n\r\n${rest}` : head,
        echo: (text) =>
          new Promise((res) => {
            let got = '';
            socket.on('data', (c: Buffer) => {
              got += c.toString();
              if (got.length >= text.length) res(got);
            });
            socket.write(text);
          }),
        close: () => socket.destroy(),
      });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('end', () => resolve({ head: data, echo: async () => '', close: () => socket.destroy() }));
    const lines = Object.entries({ Host: 'api.example.com', Connection: 'Upgrade', Upgrade: 'websocket', ...headers }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  });
}

describe('WebSocket upgrades through the gateway', () => {
  it('authenticates, authorizes and audits an upgrade, then passes bytes both ways', async () => {
    const token = await stack.token('viewer@cloudstack.example');
    const ws = await upgrade('/api/stream', { Authorization: `Bearer ${token}`, 'X-Correlation-ID': 'ws-1', 'X-User-Id': 'root' });
    try {
      expect(ws.head).toMatch(/^HTTP\/1.1 101 /);
      expect(ws.head).toMatch(/x-upstream: primary/i);
      expect(ws.head).toMatch(/x-correlation-id: ws-1/i);
      expect(await ws.echo('hello through the gateway')).toBe('hello through the gateway');
    } finally {
      ws.close();
    }
    const seen = stack.primary.seen.find((e) => e.headers['x-correlation-id'] === 'ws-1')!;
    expect(seen.url).toBe('/v1/api/stream');
    expect(seen.headers['x-user-roles']).toBe('viewer');
    expect(seen.headers['x-user-id']).not.toBe('root');
    await new Promise((r) => setTimeout(r, 100));
    const events = (await stack.auditEvents()).filter((e) => e.correlation_id === 'ws-1');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 101, route_id: 'agents.stream', error_code: null });
  });

  it('refuses an upgrade without a token, and on a route that does not allow WebSocket', async () => {
    const anon = await upgrade('/api/stream', {});
    expect(anon.head).toMatch(/^HTTP\/1.1 401 /);
    expect(anon.head).toMatch(/application\/problem\+json/);
    const token = await stack.token('viewer@cloudstack.example');
    const plain = await upgrade('/api/v1/agents', { Authorization: `Bearer ${token}` });
    expect(plain.head).toMatch(/^HTTP\/1.1 400 /);
    expect(stack.primary.seen.filter((e) => e.url === '/v1/api/v1/agents' && e.headers.upgrade)).toHaveLength(0);
  });
});
