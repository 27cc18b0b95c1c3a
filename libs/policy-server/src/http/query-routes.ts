import { type Request, type Response, Router } from 'express';
import { engineErrorDetails, isEngineError, MSG_EVAL_ERROR, OpaHttpError } from '../opa/errors';
import { Ordered } from '../opa/json';
import type { PolicyServerContext } from '../context';
import { explainMode, explanation, TraceBuffer } from './explain';
import { evalLimits, EVAL_CANCELLED, sourceLookup } from './eval-options';
import { refuseDeepJson } from './json-depth';
import { readBody } from './read-body';
import { boolParam, sendJson } from './respond';

const MSG_PARSE_QUERY_ERROR = 'error(s) occurred while parsing query';
const MSG_COMPILE_QUERY_ERROR = 'error(s) occurred while compiling query';

interface QueryRequest {
  readonly query: string;
  readonly input: { readonly present: boolean; readonly value?: unknown };
}

/** POST /v1/query's body `{"query": "...", "input": ...}`; `"input": null` is no input, as OPA's *interface{}. */
function postedQuery(req: Request): QueryRequest {
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  const decodeError = (message: string) => OpaHttpError.badRequest(`error(s) occurred while decoding request: ${message}`);
  if (text.trim() === '') throw decodeError('EOF');
  refuseDeepJson(text, 'error(s) occurred while decoding request');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw decodeError(err instanceof Error ? err.message : String(err));
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw decodeError('json: cannot unmarshal non-object into Go value of type types.QueryRequestV1');
  const { query, input } = body as { query?: unknown; input?: unknown };
  if (query !== undefined && typeof query !== 'string') throw decodeError('json: cannot unmarshal non-string into Go struct field QueryRequestV1.query of type string');
  return { query: query ?? '', input: input === undefined || input === null ? { present: false } : { present: true, value: input } };
}

/** Parse and compile errors are the client's (400); evaluation errors are OPA's 500. */
function queryError(err: unknown): OpaHttpError {
  const details = engineErrorDetails(err);
  const code = (err as { code: string }).code;
  if (code === 'rego_parse_error') return OpaHttpError.badRequest(MSG_PARSE_QUERY_ERROR, details);
  if (code.startsWith('rego_') && code !== 'rego_recursion_error') return OpaHttpError.badRequest(MSG_COMPILE_QUERY_ERROR, details);
  return OpaHttpError.internal(MSG_EVAL_ERROR, details.some((d) => d.code === 'eval_cancel_error') ? [EVAL_CANCELLED] : details);
}

/**
 * The Query API: `GET /v1/query?q=<rego>` and `POST /v1/query` `{"query", "input"}`: an ad-hoc
 * query over the serving policies and data, answered `{"result": [bindings…]}` (no `result`
 * when the query is undefined), with `explain`, `metrics` and `instrument` as OPA's.
 */
export function queryRouter(ctx: PolicyServerContext): Router {
  const router = Router();
  const limits = evalLimits(ctx.config);

  const run = (req: Request, res: Response, request: QueryRequest, started: bigint): void => {
    const parsed = process.hrtime.bigint();
    const snapshot = ctx.store.current();
    const mode = explainMode(req.query);
    const trace = mode ? TraceBuffer.forQuery(false) : undefined;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = snapshot.set.query(request.query, {
        ...limits,
        data: snapshot.data,
        ...(request.input.present ? { input: request.input.value } : {}),
        ...(trace ? { trace: trace.record } : {}),
      });
    } catch (err) {
      if (!isEngineError(err)) throw err;
      throw queryError(err);
    }
    const evaluated = process.hrtime.bigint();
    const pretty = boolParam(req.query, 'pretty');
    const withMetrics = boolParam(req.query, 'metrics') || boolParam(req.query, 'instrument');
    const metrics = withMetrics
      ? {
          timer_rego_query_parse_ns: Number(parsed - started),
          timer_rego_query_eval_ns: Number(evaluated - parsed),
          timer_server_handler_ns: Number(process.hrtime.bigint() - started),
        }
      : undefined;
    // QueryResponseV1's field order; an empty result set is omitted (Go's omitempty).
    const body = new Ordered({
      explanation: mode && trace ? explanation(mode, trace.events, pretty, sourceLookup(snapshot, request.query)) : undefined,
      metrics,
      result: rows.length ? rows : undefined,
    });
    sendJson(res, 200, body, pretty);
  };

  router.get('/', (req, res) => {
    const started = process.hrtime.bigint();
    const q = req.query.q;
    const text = Array.isArray(q) ? q[q.length - 1] : q;
    if (typeof text !== 'string') throw OpaHttpError.badRequest("missing parameter 'q'");
    run(req, res, { query: text, input: { present: false } }, started);
  });

  router.post('/', readBody(ctx.config.BODY_LIMIT), (req, res) => {
    const started = process.hrtime.bigint();
    run(req, res, postedQuery(req), started);
  });

  router.all(/.*/, (req, res) => {
    req.resume();
    res.status(405).end();
  });
  return router;
}
