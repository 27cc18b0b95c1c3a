import type { Request, Response } from 'express';
import { Router } from 'express';
import { FILTER_TARGETS, bodyAst, residualToUcast, supportAst, ucastToSql, type FilterTarget, type Residual, type SqlDialect, type TableMappings, type UcastNode } from '@cloud-stack/rego';
import type { PolicyServerContext } from '../context';
import { MSG_EVAL_ERROR, OpaHttpError, engineErrorDetails, isEngineError } from '../opa/errors';
import { opaJson } from '../opa/json';
import { refuseDeepJson } from './json-depth';
import { readBody } from './read-body';
import { boolParam } from './respond';

const JSON_TYPE = 'application/json';
const MULTI_TYPE = 'application/vnd.opa.multitarget+json';
/** EOPA's media types: `application/vnd.opa.<target>.<dialect>+json` ↔ `<target>+<dialect>`. */
const MEDIA_TYPES = new Map<string, FilterTarget>(FILTER_TARGETS.map((t) => [`application/vnd.opa.${t.replace('+', '.')}+json`, t]));

interface CompileRequest {
  readonly query: string;
  readonly input: unknown;
  readonly unknowns: readonly string[] | undefined;
  readonly targetDialects: readonly FilterTarget[];
  readonly mappings: Readonly<Record<string, TableMappings>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The path's segments (decoded, empty ones dropped) → `data.a.b` (keys that are not identifiers as
 * `["k"]`). Segments are not split again after decoding: `a%2Fb` is the one key `a/b`, as
 * system.authz saw it in `input.path`.
 */
function pathQuery(path: readonly string[]): string {
  const segs = path.filter((s) => s !== '');
  return segs.reduce((q, s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `${q}.${s}` : `${q}[${JSON.stringify(s)}]`), 'data');
}

function parseRequest(body: Buffer | undefined, path: readonly string[] | undefined): CompileRequest {
  const text = body?.toString('utf8') ?? '';
  let doc: unknown = {};
  if (text.trim() !== '') {
    refuseDeepJson(text, 'error(s) occurred while decoding request');
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw OpaHttpError.badRequest(`error(s) occurred while decoding request: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!isRecord(doc)) throw OpaHttpError.badRequest('error(s) occurred while decoding request: the body must be a JSON object');
  const { query, input, unknowns, options = {} } = doc;
  if (!isRecord(options)) throw OpaHttpError.badRequest('options must be an object');
  let q: string;
  if (path !== undefined) q = pathQuery(path);
  else if (typeof query === 'string' && query.trim() !== '') q = query;
  else throw OpaHttpError.badRequest('missing required "query" (a Rego query string)');
  if (unknowns !== undefined && (!Array.isArray(unknowns) || !unknowns.every((u) => typeof u === 'string'))) {
    throw OpaHttpError.badRequest('unknowns must be an array of strings such as "input.fruits"');
  }
  const dialects = options.targetDialects ?? [];
  if (!Array.isArray(dialects) || !dialects.every((d) => FILTER_TARGETS.includes(d as FilterTarget))) {
    throw OpaHttpError.badRequest(`options.targetDialects must list some of ${FILTER_TARGETS.join(', ')}`);
  }
  const mappings = options.targetSQLTableMappings ?? {};
  if (!isRecord(mappings)) throw OpaHttpError.badRequest('options.targetSQLTableMappings must be an object');
  return { query: q, input, unknowns: unknowns as string[] | undefined, targetDialects: dialects as FilterTarget[], mappings: mappings as Record<string, TableMappings> };
}

type Answer = 'json' | 'multi' | FilterTarget;

/**
 * The Accept header picks the answer: OPA's residual AST, or one (or several) of EOPA's filter
 * targets. The data-filter path wants exactly one media type (EOPA refuses lists); plain
 * `/v1/compile` answers OPA's AST to any list that accepts JSON, as OPA ignores Accept there.
 */
function answerFor(accept: string | undefined, filterPath: boolean): Answer {
  const types = (accept ?? '')
    .split(',')
    .map((t) => t.split(';')[0]!.trim())
    .filter((t) => t !== '');
  if (!filterPath && (types.length === 0 || types.includes(JSON_TYPE) || types.includes('*/*'))) return 'json';
  if (types.length > 1) throw OpaHttpError.badRequest('Accept header: multiple headers not supported');
  const a = types[0] ?? JSON_TYPE;
  if (a === JSON_TYPE || a === '*/*') return 'json';
  if (a === MULTI_TYPE) return 'multi';
  const t = MEDIA_TYPES.get(a);
  if (t) return t;
  throw OpaHttpError.badRequest(`Accept header: unsupported header: ${a}`);
}

interface FilterResult {
  readonly query: UcastNode | string | Record<string, never>;
}

/** One target's filter, or undefined when the query can never be true (EOPA leaves `result` out). */
function filterFor(r: Residual, target: FilterTarget, mappings: Readonly<Record<string, TableMappings>>): FilterResult | undefined {
  const ucast = residualToUcast(r, target);
  if (ucast === undefined) return undefined;
  const [kind, dialect] = target.split('+') as ['ucast' | 'sql', string];
  if (kind === 'ucast') return { query: ucast ?? {} };
  return { query: ucastToSql(ucast, dialect as SqlDialect, mappings[dialect] ?? {}) };
}

function send(res: Response, status: number, type: string, body: unknown, pretty: boolean): void {
  const text = opaJson(body, pretty);
  res.status(status).setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * OPA's Compile API: `POST /v1/compile` (query, input, unknowns → residual queries and support
 * modules as OPA's JSON AST) and EOPA's data-filter form `POST /v1/compile/{path}` whose Accept
 * header chooses UCAST or a SQL dialect. Authorization is the Express chain's (system.authz, as
 * for every other route).
 */
export function compileRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  const handle = (req: Request, res: Response): void => {
    const pretty = boolParam(req.query, 'pretty');
    const raw = (req.params as { path?: string | string[] }).path;
    const path = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
    const answer = answerFor(req.get('accept'), path !== undefined);
    const body = parseRequest(req.body as Buffer | undefined, path);
    const snapshot = ctx.store.current();
    let residual: Residual;
    try {
      // No unknowns in the request: the rule's METADATA `compile.unknowns`, else `input` (the engine's defaults).
      const unknowns = body.unknowns?.length ? { unknowns: body.unknowns } : {};
      residual = snapshot.set.partial(body.query, { input: body.input ?? undefined, data: snapshot.data, timeoutMs: ctx.config.EVAL_TIMEOUT_MS, ...unknowns });
    } catch (err) {
      throw engineFailure(err);
    }
    const type = answer === 'json' ? JSON_TYPE : answer === 'multi' ? MULTI_TYPE : [...MEDIA_TYPES].find(([, t]) => t === answer)![0];
    try {
      if (answer === 'json') {
        const result: Record<string, unknown> = {};
        if (residual.queries.length) result.queries = residual.queries.map(bodyAst);
        if (residual.support.length) result.support = supportAst(residual.support);
        return send(res, 200, type, { result }, pretty);
      }
      if (answer === 'multi') {
        const targets: Record<string, FilterResult> = {};
        for (const t of body.targetDialects) {
          const f = filterFor(residual, t, body.mappings);
          if (f) targets[t.startsWith('ucast') ? 'ucast' : t.split('+')[1]!] = f;
        }
        return send(res, 200, type, { result: { targets } }, pretty);
      }
      const f = filterFor(residual, answer, body.mappings);
      send(res, 200, type, f ? { result: f } : {}, pretty);
    } catch (err) {
      throw engineFailure(err);
    }
  };
  const run = (req: Request, res: Response, next: (err?: unknown) => void): void => {
    try {
      handle(req, res);
    } catch (err) {
      next(err);
    }
  };
  const limit = readBody(ctx.config.BODY_LIMIT);
  router.post('/v1/compile', limit, run);
  router.post('/v1/compile/*path', limit, run);
  return router;
}

/** Engine errors as OPA's compile API answers them: bad queries and unsupported fragments are the client's (400). */
function engineFailure(err: unknown): unknown {
  if (!isEngineError(err)) return err;
  const details = engineErrorDetails(err);
  const code = details[0]?.code ?? '';
  if (code === 'rego_parse_error' || code.startsWith('rego_')) return OpaHttpError.badRequest('error(s) occurred while parsing query', details);
  if (code === 'invalid_parameter') return OpaHttpError.badRequest(details[0]!.message, details);
  if (code.startsWith('pe_')) return new OpaHttpError(400, 'evaluation_error', MSG_EVAL_ERROR, details);
  return OpaHttpError.internal(MSG_EVAL_ERROR, details);
}
