import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeBundleArchive } from '../../src/bundles/archive';

/** A bundle's files as text, path → content. */
export type FileSpec = Record<string, string | Buffer>;

export async function archiveOf(files: FileSpec): Promise<Buffer> {
  return writeBundleArchive(new Map(Object.entries(files).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)])));
}

export function filesOf(files: FileSpec): Map<string, Buffer> {
  return new Map(Object.entries(files).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));
}

interface Served {
  body: Buffer;
  etag: string;
}

/**
 * A bundle server as OPA's bundle services behave: GET of a resource answers the archive with an
 * ETag, 304 when If-None-Match names the current one, 401 without the expected bearer token.
 */
export class TestBundleServer {
  private readonly server: Server;
  private readonly resources = new Map<string, Served>();
  private etagSeq = 0;
  /** Every request: path, status answered and headers received. */
  readonly requests: Array<{ path: string; status: number; headers: IncomingHttpHeaders }> = [];

  constructor(private readonly token?: string) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const answer = (status: number, body?: Buffer, headers: Record<string, string> = {}): void => {
        this.requests.push({ path, status, headers: req.headers });
        res.writeHead(status, headers);
        res.end(body);
      };
      if (this.token && req.headers.authorization !== `Bearer ${this.token}`) return answer(401);
      const served = this.resources.get(path);
      if (!served) return answer(404);
      if (req.headers['if-none-match'] === served.etag) return answer(304, undefined, { ETag: served.etag });
      answer(200, served.body, { ETag: served.etag, 'Content-Type': 'application/gzip' });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Serves `body` at `path` with a new ETag. */
  put(path: string, body: Buffer): string {
    const etag = `"e${++this.etagSeq}"`;
    this.resources.set(path, { body, etag });
    return etag;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
