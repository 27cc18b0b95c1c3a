import type { IncomingMessage, ServerResponse } from 'node:http';
import { load as loadYaml } from 'js-yaml';
import { randomUUID } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import type { EvalOptions, EvaluateResult } from '@cloud-stack/rego';
import { acceptCorrelationId, type Logger } from '@cloud-stack/service-kit';
import { engineErrorDetails, isEngineError, MSG_EVAL_ERROR, OpaHttpError } from '../opa/errors';
import { Ordered } from '../opa/json';
import { defaultDecisionPath } from '../config/opa-config';
import type { PolicyServerContext } from '../context';
import type { PolicySnapshot } from '../store/policy-store';
import { sendOpaError } from './errors';
import { refuseDeepJson } from './json-depth';
import { collectBody, parseByteSize } from './read-body';
import { boolParam, sendJson, type Query } from './respond';
import { traceIds } from './trace';
import { decisionBundles, evalLimits, EVAL_CANCELLED, provenance, sourceLookup } from './eval-options';
import { explainMode, explanation, refString, TraceBuffer } from './explain';

const PREFIX = '/v1/data';
const INPUT_KEY_MISSING = new Ordered({ code: 'api_usage_warning', message: "'input' key missing from the request" });

interface InputDoc {
  /** False when the request carried no input at all (OPA: input is undefined in the policy). */
  readonly present: boolean;
  readonly value?: unknown;
}

/** `/a/b%2Fc/` → ['a', 'b/c']: the document path under /v1/data. */
function documentPath(rest: string): string[] {
  return rest
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw OpaHttpError.badRequest(`invalid path segment ${JSON.stringify(s)}`);
      }
    });
}

/** The request body as a document (JSON, or YAML by Content-Type); undefined when empty. */
function parseBody(body: Buffer | undefined, contentType: string | undefined): unknown {
  const text = body ? body.toString('utf8') : '';
  if (text.trim() === '') return undefined;
  const what = 'body contains malformed input document';
  // js-yaml has a nesting limit of its own (100).
  const yaml = /yaml/i.test(contentType ?? '');
  if (!yaml) refuseDeepJson(text, what);
  try {
    return yaml ? loadYaml(text) : JSON.parse(text);
  } catch (err) {
    throw OpaHttpError.badRequest(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

function inputFromBody(doc: unknown): InputDoc {
  if (doc === undefined) return { present: false };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw OpaHttpError.badRequest('body contains malformed input document: the body must be a JSON object');
  }
  // Like OPA (Go's *interface{}), `"input": null` is the same as no input at all.
  const value = (doc as { input?: unknown }).input;
  return value === undefined || value === null ? { present: false } : { present: true, value };
}

function inputFromQuery(query: Query): InputDoc {
  const v = query.input;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  if (typeof s !== 'string' || s === '') return { present: false };
  refuseDeepJson(s, 'parameter contains malformed input document');
  try {
    return { present: true, value: JSON.parse(s) };
  } catch (err) {
    throw OpaHttpError.badRequest(`parameter contains malformed input document: ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface DataRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string[];
  readonly query: Query;
  readonly correlationId: string;
}

interface Decision {
  readonly decisionId: string;
  readonly snapshot: PolicySnapshot;
  readonly outcome: EvaluateResult;
  readonly metrics: Readonly<Record<string, number>>;
  readonly trace?: TraceBuffer;
}

/**
 * The Data API: `GET|POST /v1/data[/{path}]`, and `POST /` (OPA's default decision). Answers
 * `{decision_id, provenance?, explanation?, metrics?, result?, warning?}` like OPA (result absent
 * when the document is undefined) and logs the decision without waiting.
 *
 * It is plain node:http middleware that the composition puts in front of Express: this is the
 * call the gateway makes on every request, and Express's routing and request decoration cost
 * about a third of a decision's time through HTTP here (~100 µs of ~300 µs at p99, bench:policy).
 * Anything else is passed on with `next()`.
 */
export function dataApi(ctx: PolicyServerContext, logger: Logger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const maxBody = parseByteSize(ctx.config.BODY_LIMIT);
  const evalTimeoutNs = BigInt(ctx.config.EVAL_TIMEOUT_MS) * 1_000_000n;
  const limits = evalLimits(ctx.config);
  const defaultDecision = defaultDecisionPath(ctx.config.opa);

  const authorize = ctx.authorize;

  /** Evaluates and logs one decision; throws the OPA error to answer when evaluation failed. */
  const evaluate = ({ req, path, query, correlationId }: DataRequest, readInput: () => InputDoc): Decision & { input: InputDoc } => {
    const started = process.hrtime.bigint();
    const input = readInput();
    const parsed = process.hrtime.bigint();
    const snapshot = ctx.store.current();
    const decisionId = randomUUID(); // OPA's decision ids are UUIDv4 too
    const trace = explainMode(query) ? TraceBuffer.forQuery(true) : undefined;
    let outcome: EvaluateResult;
    let evaluated: bigint;
    let failure: OpaHttpError | undefined;
    try {
      const options: EvalOptions = { ...limits, data: snapshot.data, ...(input.present ? { input: input.value } : {}), ...(trace ? { trace: trace.record } : {}) };
      outcome = snapshot.set.evaluate(path, options);
      evaluated = process.hrtime.bigint();
      if (evaluated - parsed > evalTimeoutNs) {
        failure = OpaHttpError.internal(MSG_EVAL_ERROR, [EVAL_CANCELLED]);
      }
    } catch (err) {
      evaluated = process.hrtime.bigint();
      if (!isEngineError(err)) throw err;
      outcome = { defined: false };
      const details = engineErrorDetails(err);
      // OPA reports a cancelled query with one fixed detail and no location.
      failure = OpaHttpError.internal(MSG_EVAL_ERROR, details.some((d) => d.code === 'eval_cancel_error') ? [EVAL_CANCELLED] : details);
    }
    trace?.finish(outcome.defined);
    const metrics = {
      counter_server_query_cache_hit: 1,
      timer_rego_input_parse_ns: Number(parsed - started),
      timer_rego_query_eval_ns: Number(evaluated - parsed),
      timer_server_handler_ns: Number(process.hrtime.bigint() - started),
    };
    const defined = outcome.defined && !failure;
    ctx.decisions?.log({
      labels: ctx.labels,
      decision_id: decisionId,
      ...traceIds(req),
      correlation_id: correlationId,
      path: path.join('/'),
      input: input.present ? input.value : undefined,
      result: defined && outcome.defined ? outcome.result : undefined,
      error: failure ? { code: failure.errors?.[0]?.code ?? failure.code, message: failure.errors?.[0]?.message ?? failure.message } : undefined,
      requested_by: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
      timestamp: new Date().toISOString(),
      metrics,
      bundles: decisionBundles(ctx, snapshot),
    }, ctx.decisionMask?.(snapshot));
    if (failure) throw failure;
    return { decisionId, snapshot, outcome, metrics, trace, input };
  };

  const decide = (request: DataRequest, readInput: () => InputDoc, warnMissingInput: boolean): void => {
    const { query, path } = request;
    const { decisionId, snapshot, outcome, metrics, trace, input } = evaluate(request, readInput);
    const pretty = boolParam(query, 'pretty');
    const mode = explainMode(query);
    // OPA explains an undefined document only in full.
    const explain = mode && trace && (outcome.defined || mode === 'full') ? explanation(mode, trace.events, pretty, sourceLookup(snapshot, refString(path))) : undefined;
    const response = new Ordered({
      decision_id: decisionId,
      provenance: boolParam(query, 'provenance') ? provenance(ctx, snapshot) : undefined,
      explanation: explain,
      metrics: boolParam(query, 'metrics') || boolParam(query, 'instrument') ? metrics : undefined,
      result: outcome.defined ? outcome.result : undefined,
      warning: warnMissingInput && !input.present ? INPUT_KEY_MISSING : undefined,
    });
    sendJson(request.res, 200, response, pretty);
  };

  /** `POST /`: the body is the input itself (empty: null); the bare result, or 404 when undefined. */
  const decideDefault = (request: DataRequest, doc: unknown): void => {
    const { outcome } = evaluate(request, () => ({ present: true, value: doc === undefined ? null : doc }));
    if (!outcome.defined) {
      const ref = refString(request.path);
      const rules = request.path.length > 0 && ctx.store.current().set.rulePaths().some((p) => p.join('/') === request.path.join('/'));
      throw new OpaHttpError(404, 'undefined_document', `${rules ? 'document undefined' : 'document missing'}: ${ref}`);
    }
    sendJson(request.res, 200, outcome.result, boolParam(request.query, 'pretty'));
  };

  return (req, res, next) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const get = req.method === 'GET' || req.method === 'HEAD';
    const root = pathname === '/' && req.method === 'POST';
    if (!root && ((!get && req.method !== 'POST') || !(pathname === PREFIX || pathname.startsWith(`${PREFIX}/`)))) {
      next();
      return;
    }
    // Parsed as Express's "simple" query parser does, which the rest of the API uses.
    const query = q < 0 ? {} : parseQueryString(url.slice(q + 1));
    const correlationId = acceptCorrelationId(req.headers['x-correlation-id']);
    res.setHeader('X-Correlation-ID', correlationId);
    const fail = (err: unknown) => sendOpaError(req, res, err, logger, boolParam(query, 'pretty'), correlationId);
    try {
      const path = root ? defaultDecision : documentPath(pathname.slice(PREFIX.length));
      const request: DataRequest = { req, res, path, query, correlationId };
      if (get) {
        req.resume();
        if (authorize) authorize({ req, pathname, query });
        decide(request, () => inputFromQuery(query), false);
        return;
      }
      collectBody(req, maxBody, (err, body) => {
        if (err) return fail(err);
        try {
          const contentType = req.headers['content-type'];
          if (root) {
            let doc: unknown;
            try {
              doc = parseBody(body, contentType);
            } catch (e) {
              throw e instanceof OpaHttpError ? OpaHttpError.badRequest(`unexpected parse error for input: ${e.message}`) : e;
            }
            if (authorize) authorize({ req, pathname, query, body: doc });
            decideDefault(request, doc);
          } else if (authorize) {
            // system.authz sees the parsed body (OPA's input.body); parsed once for both.
            const doc = parseBody(body, contentType);
            authorize({ req, pathname, query, body: doc });
            decide(request, () => inputFromBody(doc), true);
          } else {
            decide(request, () => inputFromBody(parseBody(body, contentType)), true);
          }
        } catch (e) {
          fail(e);
        }
      });
    } catch (err) {
      fail(err);
    }
  };
}
