import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { acceptCorrelationId } from '@cloud-stack/service-kit';
import type { OAuthOperations } from '../oauth/router';
import type { RequestDurations } from './request-metrics';
import { isPlainForm, readForm } from './read-form';

type Operation = (authorization: string | undefined, fields: Readonly<Record<string, string>>) => Promise<unknown>;

export interface HotPathOptions {
  readonly name: string;
  /** Largest request body, in bytes. */
  readonly maxBody: number;
  readonly durations: RequestDurations;
  /** Answers an error of the hot path (the composition's error handlers: RFC 6749 or problem+json). */
  readonly fail: (req: IncomingMessage, res: ServerResponse, correlationId: string, err: unknown) => void;
}

type Listener = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * The calls a gateway makes all the time, on plain node:http in front of Express: `GET /health`,
 * and `POST /oauth/introspect` and `/oauth/token` with a plain form body. Per request they do what
 * the shared middleware would (accept or make a correlation id, echo it, record the duration) and
 * nothing else: no router walk, no body-parser, no ETag, no response decoration. Errors go to the
 * same handlers as Express's, so they answer alike. Anything else is passed on with `next()`.
 */
export function hotPath(operations: OAuthOperations, options: HotPathOptions): Listener {
  const { durations, fail, maxBody } = options;
  const health = JSON.stringify({ status: 'ok', service: options.name });
  const routes = new Map<string, Operation>([
    ['/oauth/introspect', operations.introspect],
    ['/oauth/token', operations.issueToken],
  ]);

  const send = (res: ServerResponse, correlationId: string, json: string, extra?: OutgoingHttpHeaders) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'x-correlation-id': correlationId,
      ...extra,
    });
    res.end(json);
  };
  // RFC 6749 §5.1: token and introspection answers are not to be cached.
  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };

  return (req, res, next) => {
    const started = process.hrtime.bigint();
    if (req.method === 'GET' && req.url === '/health') {
      send(res, acceptCorrelationId(req.headers['x-correlation-id']), health);
      durations.observe(started, 200);
      return;
    }
    const operation = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
    // A browser's call (it sends Origin) goes through Express, where CORS is answered.
    if (!operation || !isPlainForm(req.headers) || req.headers.origin !== undefined) {
      next();
      return;
    }
    const correlationId = acceptCorrelationId(req.headers['x-correlation-id']);
    const failed = (err: unknown) => {
      res.once('finish', () => durations.observe(started, res.statusCode));
      res.setHeader('x-correlation-id', correlationId);
      fail(req, res, correlationId, err);
    };
    readForm(req, maxBody, (err, fields) => {
      if (err) return failed(err);
      operation(req.headers.authorization, fields!).then((body) => {
        send(res, correlationId, JSON.stringify(body), noStore);
        durations.observe(started, 200);
      }, failed);
    });
  };
}
