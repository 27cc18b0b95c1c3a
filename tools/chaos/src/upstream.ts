import { createServer, type Server } from 'node:http';
import { freePort } from '@cloud-stack/test-kit';

/**
 * The product behind the gateway: answers every request with what it received (method, URL and
 * headers), so a probe can see that the gateway authenticated the caller before forwarding. It
 * keeps its port across a stop and a start, and can be made slow (its health check stays fast, so
 * a slow upstream is seen through the route's timeout, not the health probe).
 */
export class ChaosUpstream {
  readonly url: string;
  /** Extra time before each answer (not /health). */
  delayMs = 0;
  private server: Server | undefined;

  private constructor(readonly port: number) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(): Promise<ChaosUpstream> {
    return new ChaosUpstream(await freePort());
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/health') return void res.end('ok');
        const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
        const send = () => {
          if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        };
        if (this.delayMs > 0) setTimeout(send, this.delayMs);
        else send();
      });
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => done());
    });
    this.server = server;
  }

  /** Closes the port and every open connection: the gateway's next connect is refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  }
}
