import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A backend publishing `documents[path]` as JSON; every other path is 404. */
export async function serveDocuments(documents: Record<string, unknown>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const doc = documents[req.url ?? ''];
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

export const AGENTS_OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'agents', version: '1' },
  paths: {
    '/agents': { get: { operationId: 'listAgents' } },
    '/agents/{agentId}': { get: {}, delete: {}, parameters: [{ name: 'agentId', in: 'path' }] },
    '/agents/{agentId}/execute': { post: { 'x-permission': 'agent:execute' } },
    '/files/{name}.json': { get: {} },
  },
};
