import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface ReceivedUpload {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Size of the gzipped body as it came over the wire. */
  readonly bytes: number;
  readonly events: readonly Record<string, unknown>[];
}

/** A decision-log service as OPA expects one: gzipped JSON arrays POSTed to it. */
export interface TestLogService {
  readonly url: string;
  readonly port: number;
  /** Accepted uploads, in order. */
  readonly uploads: ReceivedUpload[];
  /** Every event of the accepted uploads, in order. */
  events(): Record<string, unknown>[];
  /** Requests answered with an error status (failing on purpose). */
  readonly refused: number;
  /** Answer the next `n` uploads with `status` instead of accepting them. */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

export async function startTestLogService(port = 0): Promise<TestLogService> {
  const uploads: ReceivedUpload[] = [];
  let failing = 0;
  let failStatus = 503;
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing > 0) {
        failing--;
        refused++;
        res.writeHead(failStatus).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const events = JSON.parse(gunzipSync(body).toString('utf8')) as Record<string, unknown>[];
      uploads.push({ path: req.url ?? '', headers: req.headers, bytes: body.length, events });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    uploads,
    events: () => uploads.flatMap((u) => u.events),
    get refused() {
      return refused;
    },
    failNext(n, status = 503) {
      failing = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
