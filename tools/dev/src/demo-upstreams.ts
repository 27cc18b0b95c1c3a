/**
 * The products behind the gateway in the demo: small JSON servers that answer with what they
 * received from the gateway (the identity headers, the correlation id, whether the gateway's
 * signature checks out), so a curl through the gateway shows what the gateway did. Ports match
 * infra/gateway/demo-routes.yaml.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { verifyGatewaySignature } from '@cloud-stack/gateway-pipeline';

export interface DemoUpstream {
  readonly name: string;
  readonly port: number;
  /** What it stands for, for the services table. */
  readonly role: string;
  /** The operations its `/openapi.json` publishes (for the gateway's route discovery). */
  readonly operations: Readonly<Record<string, readonly string[]>>;
}

// The agent backend and its sandbox publish the same API. Its runs endpoint is one the demo route
// file does not route, so route discovery has something to propose.
const AGENT_OPERATIONS = {
  '/api/v1/agents': ['get', 'post'],
  '/api/agents/{id}/execute': ['post'],
  '/api/agents/{id}/runs': ['get'],
  '/api/governor/approve': ['post'],
};

/** The upstreams of infra/gateway/demo-routes.yaml. */
export const DEMO_UPSTREAMS: readonly DemoUpstream[] = [
  { name: 'customer-portal', port: 9101, role: 'customer portal API (/api/portal/*)', operations: { '/api/portal/account': ['get'], '/api/portal/invoices': ['get'] } },
  { name: 'platform-portal', port: 9102, role: 'platform portal API (/api/admin/*)', operations: { '/api/admin/tenants': ['get'], '/api/admin/users': ['get'] } },
  { name: 'agents', port: 9103, role: 'agent backend (/api/v1/agents, /api/agents/{id}/execute, /api/governor/approve)', operations: AGENT_OPERATIONS },
  { name: 'agents-sandbox', port: 9104, role: "the agent backend's trial sandbox twin", operations: AGENT_OPERATIONS },
  { name: 'forge', port: 9105, role: 'host-routed product (Host: forge.localhost)', operations: { '/projects': ['get'] } },
];

function openApiOf(upstream: DemoUpstream): unknown {
  const paths = Object.fromEntries(
    Object.entries(upstream.operations).map(([path, methods]) => {
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      return [path, Object.fromEntries(methods.map((m) => [m, params.length ? { parameters: params } : {}]))];
    }),
  );
  return { openapi: '3.0.3', info: { title: upstream.name, version: '1.0.0' }, paths };
}

const MAX_BODY = 64 * 1024;

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (!text) return resolve(null);
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(text);
      }
    });
  });
}

const header = (req: IncomingMessage, name: string): string | null => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
};

/** What each product does with a request, beyond showing what it received. */
function answer(name: string, method: string, path: string, req: IncomingMessage, body: unknown): { status: number; result: unknown } {
  const agent = /^\/api\/agents\/([^/]+)\/execute$/.exec(path);
  if ((name === 'agents' || name === 'agents-sandbox') && agent && method === 'POST') {
    return {
      status: 200,
      result: {
        run_id: `run-${Date.now().toString(36)}`,
        agent_id: decodeURIComponent(agent[1]!),
        output: name === 'agents-sandbox' ? 'simulated run: nothing left the sandbox' : 'executed',
        input: body,
      },
    };
  }
  if (path === '/api/v1/agents' && method === 'GET') {
    return { status: 200, result: { agents: [{ id: 'agent-trial-001', tenant_id: 'acme', trial: true }, { id: 'agent-prod-001', tenant_id: 'acme', trial: false }] } };
  }
  if (path === '/api/v1/agents' && method === 'POST') {
    return { status: 201, result: { agent: { id: `agent-${Date.now().toString(36)}`, created_by: header(req, 'x-user-id'), spec: body } } };
  }
  if (path === '/api/governor/approve' && method === 'POST') {
    return { status: 200, result: { approved: true, approved_by: header(req, 'x-user-id'), request: body } };
  }
  return { status: 200, result: { ok: true } };
}

function serve(upstream: DemoUpstream, signingSecret: string): Server {
  const environment = upstream.name === 'agents-sandbox' ? 'sandbox' : 'production';
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      const send = (status: number, doc: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(doc, null, 2)}\n`);
      if (url.pathname === '/health') return send(200, { status: 'ok', service: upstream.name });
      if (url.pathname === '/openapi.json') return send(200, openApiOf(upstream));
      const method = req.method ?? 'GET';
      const signed = header(req, 'x-gateway-signature')
        ? verifyGatewaySignature(req.headers, method, url.pathname, signingSecret)
          ? 'valid'
          : 'invalid'
        : 'absent';
      const { status, result } = answer(upstream.name, method, url.pathname, req, body);
      send(status, {
        service: upstream.name,
        environment,
        received: {
          method,
          path: url.pathname,
          host: header(req, 'x-forwarded-host'),
          user_id: header(req, 'x-user-id'),
          tenant_id: header(req, 'x-tenant-id'),
          client_id: header(req, 'x-client-id'),
          roles: header(req, 'x-user-roles'),
          agent_id: header(req, 'x-agent-id'),
          trial_mode: header(req, 'x-trial-mode'),
          is_governor: header(req, 'x-is-governor'),
          correlation_id: header(req, 'x-correlation-id'),
          gateway_signature: signed,
        },
        result,
      });
    });
  });
  // As the services do (service-kit's startServer): idle keep-alive sockets outlive the gateway's
  // pooled ones, so the gateway never reuses a socket at the moment this side closes it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

export interface RunningUpstreams {
  /** Name → base URL. */
  readonly urls: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Starts every demo upstream on its port (`anyPort`: on free ones, for tests) of `host` (default
 * 127.0.0.1; a container binds 0.0.0.0); `close` stops them all.
 */
export async function startDemoUpstreams(signingSecret: string, options: { anyPort?: boolean; host?: string } = {}): Promise<RunningUpstreams> {
  const host = options.host ?? '127.0.0.1';
  const servers = DEMO_UPSTREAMS.map((u) => ({ u, server: serve(u, signingSecret) }));
  const close = () =>
    Promise.all(
      servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    ).then(() => undefined);
  try {
    await Promise.all(
      servers.map(
        ({ u, server }) =>
          new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(options.anyPort ? 0 : u.port, host, resolve);
          }),
      ),
    );
  } catch (err) {
    await close();
    throw err;
  }
  const urls = Object.fromEntries(
    servers.map(({ u, server }) => {
      const address = server.address();
      return [u.name, `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${typeof address === 'object' && address ? address.port : u.port}`];
    }),
  );
  return { urls, close };
}
