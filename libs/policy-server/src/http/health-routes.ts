import { Router } from 'express';
import { Ordered } from '../opa/json';
import type { PolicyServerContext } from '../context';
import { boolParam, sendJson } from './respond';

/**
 * `GET /health` as OPA answers it: 200 `{}` while the server can evaluate; `?bundles` answers 500
 * `{"error": …}` until the policy directory has loaded once; `?plugins` answers 500 while the
 * latest reload failed. A failed reload keeps the previous policies serving, so plain /health
 * stays 200 and says so in a `warning` field.
 * `GET /ready` (platform convention): 503 until the policy directory has loaded once.
 */
export function healthRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  router.get('/health', (req, res) => {
    const status = ctx.store.status();
    const pretty = boolParam(req.query, 'pretty');
    if ((boolParam(req.query, 'bundles') || boolParam(req.query, 'bundle')) && !status.activated) {
      sendJson(res, 500, { error: 'one or more bundles are not activated' }, pretty);
      return;
    }
    const failed = status.lastLoad && !status.lastLoad.ok ? status.lastLoad : undefined;
    if (boolParam(req.query, 'plugins') && failed) {
      sendJson(res, 500, { error: 'one or more plugins are not up' }, pretty);
      return;
    }
    const body = failed
      ? {
          warning: new Ordered({
            code: 'policy_reload_error',
            message: `the latest policy reload failed; serving revision ${status.revision}`,
            at: failed.at,
            errors: failed.errors ?? [],
          }),
        }
      : {};
    sendJson(res, 200, body, pretty);
  });
  router.get('/ready', (_req, res) => {
    const status = ctx.store.status();
    sendJson(res, status.activated ? 200 : 503, { status: status.activated ? 'ready' : 'not_ready', revision: status.revision });
  });
  return router;
}
