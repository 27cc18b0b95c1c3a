import { type Request, type RequestHandler, type Response, Router } from 'express';
import { OpaHttpError } from '../opa/errors';
import { Ordered } from '../opa/json';
import type { PolicyServerContext } from '../context';
import { checkPathScope } from '../store/bundle-scope';
import { checkRuleConflicts, DataDraft, type DataPath, type WriteOp } from './data-write';
import { refuseDeepJson } from './json-depth';
import { readBody } from './read-body';
import { boolParam, sendJson } from './respond';

/** storage.ParsePathEscaped of the path under /v1/data: `/a/b%2Fc/` → ['a', 'b/c']. */
function writePath(req: Request): DataPath {
  const raw = req.path.replace(/^\/+|\/+$/g, '');
  if (raw === '') return [];
  try {
    return raw.split('/').map(decodeURIComponent);
  } catch {
    throw OpaHttpError.badRequest(`bad path: ${raw}`);
  }
}

/** The JSON request body; Go's decoder says EOF for an empty one. */
function jsonBody(req: Request): unknown {
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  if (text.trim() === '') throw OpaHttpError.badRequest('EOF');
  refuseDeepJson(text, 'body contains malformed input document');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw OpaHttpError.badRequest(err instanceof Error ? err.message : String(err));
  }
}

interface PatchOp {
  readonly op: WriteOp;
  readonly path: DataPath;
  readonly value: unknown;
}

/** JSON Pointer segment escapes (RFC 6901), as OPA's patch.ParsePatchPathEscaped. */
function pointerSegment(s: string): string | undefined {
  if (/~[^01]|~$/.test(s)) return undefined;
  try {
    return decodeURIComponent(s.replace(/~1/g, '/').replace(/~0/g, '~'));
  } catch {
    return undefined;
  }
}

/**
 * OPA's prepareV1PatchSlice: only add, remove and replace (others are a 400 "bad patch
 * operation"), each path relative to the document the URL names.
 */
function patchOps(body: unknown, root: DataPath): PatchOp[] {
  if (!Array.isArray(body)) throw OpaHttpError.badRequest('json: cannot unmarshal non-array into Go value of type []types.PatchV1');
  return body.map((raw: unknown) => {
    const o = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as { op?: unknown; path?: unknown; value?: unknown };
    const op = typeof o.op === 'string' ? o.op : '';
    if (op !== 'add' && op !== 'remove' && op !== 'replace') throw OpaHttpError.badRequest(`bad patch operation: ${op}`);
    const pointer = typeof o.path === 'string' ? o.path : '';
    const trimmed = pointer.replace(/^\/+|\/+$/g, '');
    const segments = trimmed === '' ? [] : trimmed.split('/').map(pointerSegment);
    if (segments.some((s) => s === undefined)) throw OpaHttpError.badRequest(`bad patch path: ${pointer}`);
    // Go decodes a missing "value" as nil: JSON null.
    return { op, path: [...root, ...(segments as string[])], value: o.value === undefined ? null : o.value };
  });
}

const writesDisabled = () =>
  new OpaHttpError(403, 'unauthorized', 'data writes are disabled: with NODE_ENV=production they need POLICY_AUTHORIZATION=basic');

/**
 * `PUT`, `PATCH` and `DELETE /v1/data/{path}`, as OPA's server answers them: 204 (200 with
 * `{"metrics"}` under `?metrics`), 304 for `PUT` with `If-None-Match: *` on an existing
 * document, 404 for missing paths, 400 for bad patches, writes under a bundle's roots and data
 * where a rule is defined. system.authz has already decided (the Express authorizer); in
 * production without it, writes are refused as policy writes are. A write builds the new data
 * off to the side and swaps it in with the store's next revision.
 */
export function dataWriteRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  const body = readBody(ctx.config.BODY_LIMIT);
  const guard: RequestHandler = (req, _res, next) => {
    if (ctx.policyWrites) return next();
    req.resume();
    next(writesDisabled());
  };

  const commit = (req: Request, res: Response, started: bigint, parsed: bigint, draft: DataDraft): void => {
    // Removing data cannot put it where a rule is (OPA checks only PUT and PATCH).
    if (req.method !== 'DELETE') checkRuleConflicts(draft, ctx.store.current().set.rulePaths());
    ctx.store.replaceData(draft.result());
    ctx.logger.info({ path: req.path, method: req.method, revision: ctx.store.current().revision }, 'data written through the API');
    if (!boolParam(req.query, 'metrics')) {
      res.status(204).end();
      return;
    }
    const metrics = { timer_rego_input_parse_ns: Number(parsed - started), timer_server_handler_ns: Number(process.hrtime.bigint() - started) };
    sendJson(res, 200, new Ordered({ metrics }));
  };

  router.put(/.*/, guard, body, (req, res) => {
    const started = process.hrtime.bigint();
    const value = jsonBody(req);
    const parsed = process.hrtime.bigint();
    const path = writePath(req);
    checkPathScope(path, ctx.store.current().bundles);
    const draft = new DataDraft(ctx.store.current().data);
    if (draft.exists(path)) {
      if (req.headers['if-none-match'] === '*') {
        res.status(304).end();
        return;
      }
    } else draft.makeDir(path.slice(0, -1));
    draft.write('add', path, value);
    commit(req, res, started, parsed, draft);
  });

  router.patch(/.*/, guard, body, (req, res) => {
    const started = process.hrtime.bigint();
    const ops = patchOps(jsonBody(req), writePath(req));
    const parsed = process.hrtime.bigint();
    const { bundles } = ctx.store.current();
    const draft = new DataDraft(ctx.store.current().data);
    for (const op of ops) {
      checkPathScope(op.path, bundles);
      draft.write(op.op, op.path, op.value);
    }
    commit(req, res, started, parsed, draft);
  });

  router.delete(/.*/, guard, (req, res) => {
    const started = process.hrtime.bigint();
    const path = writePath(req);
    checkPathScope(path, ctx.store.current().bundles);
    const draft = new DataDraft(ctx.store.current().data);
    draft.read(path);
    draft.write('remove', path);
    commit(req, res, started, started, draft);
  });

  // OPA answers other methods on the Data API with a bare 405.
  router.all(/.*/, (req, res) => {
    req.resume();
    res.status(405).end();
  });

  return router;
}
