/**
 * The demo upstreams as a process of their own: docker-compose's `demo-upstreams` service
 * (`npm start` runs them inside its own process instead). Ports 9101-9105 as in
 * infra/gateway/demo-routes.yaml, on HOST (default 127.0.0.1; the image sets 0.0.0.0).
 * UPSTREAM_SIGNING_SECRET is the gateway's, so the answers can say whether its signature checks out.
 *
 *   UPSTREAM_SIGNING_SECRET=… tsx tools/dev/src/demo-upstreams-main.ts
 */
import { DEMO_UPSTREAMS, startDemoUpstreams } from './demo-upstreams';

const secret = process.env.UPSTREAM_SIGNING_SECRET?.trim();
if (!secret) {
  process.stderr.write('config error: UPSTREAM_SIGNING_SECRET: is required (the gateway\'s, to check X-Gateway-Signature)\n');
  process.exit(1);
}
const host = process.env.HOST?.trim() || '127.0.0.1';

try {
  const running = await startDemoUpstreams(secret, { host });
  for (const u of DEMO_UPSTREAMS) process.stdout.write(`${u.name} ${running.urls[u.name]} (${u.role})\n`);
  const stop = (signal: NodeJS.Signals) => {
    process.stdout.write(`${signal}: stopping\n`);
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  process.stderr.write(`demo upstreams: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
