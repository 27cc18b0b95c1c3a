import { Router } from 'express';
import { redactedOpaConfig } from '../config/opa-config';
import type { PolicyServerContext } from '../context';
import { boolParam, sendJson } from './respond';

/**
 * OPA's status and configuration endpoints:
 * - `GET /v1/status`: `{"result": {labels, bundles: {<name>: {name, active_revision,
 *   last_successful_download, last_successful_activation, …, code?, message?, errors?}}, plugins}}`.
 * - `GET /v1/config`: the active OPA configuration, credentials, headers and key material removed.
 * - `GET /health?bundles` when bundles are configured: 200 once every bundle activated (a later
 *   failed download keeps it 200: the last good bundle serves), 500 until then. Without bundles
 *   the health router answers it (the policy directory).
 */
export function statusRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  router.get('/health', (req, res, next) => {
    if (!ctx.bundles || !(boolParam(req.query, 'bundles') || boolParam(req.query, 'bundle'))) {
      next();
      return;
    }
    if (!ctx.bundles.allActivated()) {
      sendJson(res, 500, { error: 'one or more bundles are not activated' }, boolParam(req.query, 'pretty'));
      return;
    }
    next();
  });
  router.get('/v1/status', (req, res) => {
    const bundles = ctx.bundles?.status() ?? {};
    const bundleState = !ctx.bundles || ctx.bundles.allActivated() ? 'OK' : 'NOT_READY';
    const result = {
      labels: ctx.labels,
      bundles,
      plugins: {
        ...(ctx.bundles ? { bundle: { state: bundleState } } : {}),
        decision_logs: { state: ctx.decisions ? 'OK' : 'NOT_READY' },
      },
    };
    sendJson(res, 200, { result }, boolParam(req.query, 'pretty'));
  });
  router.get('/v1/config', (req, res) => {
    const config = redactedOpaConfig(ctx.config.opa);
    const result = { ...config, labels: { ...ctx.labels }, default_decision: ctx.config.opa.default_decision };
    sendJson(res, 200, { result }, boolParam(req.query, 'pretty'));
  });
  return router;
}
