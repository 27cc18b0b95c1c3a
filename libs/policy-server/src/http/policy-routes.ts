import { type Request, type RequestHandler, Router } from 'express';
import { Ordered } from '../opa/json';
import { OpaHttpError } from '../opa/errors';
import type { PolicyServerContext } from '../context';
import type { StoredModule } from '../store/engine';
import { readBody } from './read-body';
import { boolParam, sendJson } from './respond';

function policyId(req: Request): string {
  const raw = req.path.replace(/^\/+/, '');
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw OpaHttpError.badRequest(`invalid policy id ${JSON.stringify(raw)}`);
  }
  if (id === '') throw OpaHttpError.badRequest('missing policy id');
  return id;
}

const view = (m: StoredModule) => new Ordered({ id: m.id, raw: m.source });

const writesDisabled = () =>
  new OpaHttpError(403, 'unauthorized', 'policy writes are disabled: with NODE_ENV=production they need POLICY_AUTHORIZATION=basic');

/**
 * The Policy API: `GET /v1/policies`, `GET|PUT|DELETE /v1/policies/{id}` (text/plain Rego).
 * Writes change what the gateway allows, so in production they are refused unless system.authz
 * decides who may make them (ctx.policyWrites).
 */
export function policyRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  const text = readBody(ctx.config.BODY_LIMIT);
  const guardWrites: RequestHandler = (req, _res, next) => {
    if (ctx.policyWrites) return next();
    req.resume(); // the refused policy text is not read
    next(writesDisabled());
  };

  router.get('/', (req, res) => {
    sendJson(res, 200, new Ordered({ result: ctx.store.listPolicies().map(view) }), boolParam(req.query, 'pretty'));
  });
  router.get(/.+/, (req, res) => {
    sendJson(res, 200, new Ordered({ result: view(ctx.store.getPolicy(policyId(req))) }), boolParam(req.query, 'pretty'));
  });
  router.put(/.+/, guardWrites, text, (req, res) => {
    const started = process.hrtime.bigint();
    const id = policyId(req);
    const source = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    ctx.store.putPolicy(id, source);
    ctx.logger.info({ policy: id, revision: ctx.store.current().revision }, 'policy updated through the API');
    const body = boolParam(req.query, 'metrics') ? { metrics: { timer_server_handler_ns: Number(process.hrtime.bigint() - started) } } : {};
    sendJson(res, 200, body, boolParam(req.query, 'pretty'));
  });
  router.delete(/.+/, guardWrites, (req, res) => {
    const id = policyId(req);
    ctx.store.deletePolicy(id);
    ctx.logger.info({ policy: id, revision: ctx.store.current().revision }, 'policy deleted through the API');
    sendJson(res, 200, {}, boolParam(req.query, 'pretty'));
  });
  return router;
}
