import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, type Problem } from '@cloud-stack/contracts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** An error a handler throws to answer with RFC 7807 problem details. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly type: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    detail?: string,
    options: { title?: string; type?: string; extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? statusTitle(status));
    this.name = 'HttpProblem';
    this.status = status;
    this.title = options.title ?? statusTitle(status);
    this.detail = detail;
    this.type = options.type ?? 'about:blank';
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/** Writes a problem+json response for `problem` on behalf of `req`. */
export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  const body: Problem = {
    ...problem.extensions,
    type: problem.type,
    title: problem.title,
    status: problem.status,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    instance: req.originalUrl.split('?')[0],
    ...(req.correlationId ? { correlation_id: req.correlationId } : {}),
  };
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
