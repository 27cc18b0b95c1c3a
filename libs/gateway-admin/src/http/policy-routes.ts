import type { Request } from 'express';
import { PolicyInputSchema, type PolicyInput, type PolicyResult } from '@cloud-stack/contracts';
import { compileRoutes, HTTP_METHODS, type Route } from '@cloud-stack/gateway-routing';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { Subject } from './audit';

export const DEFAULT_DECISION_PATH = 'gateway/authz/decision';

/** The gateway's policy as the console's policy page sees it. */
export interface PolicyPlayground {
  /** `{mode, revision, modules}` of the loaded policy; throws an HttpProblem (503) when it cannot be read. */
  describe(): Promise<{ readonly mode: 'sidecar' | 'embedded'; readonly revision: string | null; readonly modules: readonly { id: string; path?: string; raw: string }[] }>;
  /** The input exactly as the authorize stage builds it for this route and request (budget included). */
  inputFor(route: Route, request: { method: string; host: string; path: string; params: Readonly<Record<string, string>> }, subject: Subject): Promise<PolicyInput>;
  /** One decision, never from a cache; throws an HttpProblem (503) when the policy cannot be asked. */
  decide(path: string, input: PolicyInput): Promise<PolicyResult>;
}

interface FieldError {
  readonly path: string;
  readonly message: string;
}

const invalid = (errors: FieldError[]) => new HttpProblem(400, errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), { extensions: { errors } });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const issuesOf = (prefix: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldError[] =>
  issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message }));

/** A host the route answers: its first exact host, a name under its first wildcard, else the caller's. */
function defaultHost(route: Route, req: Request): string {
  const exact = route.hosts.find((h) => !h.startsWith('*.'));
  if (exact) return exact;
  const wildcard = route.hosts[0];
  if (wildcard) return `any${wildcard.slice(1)}`;
  return (req.headers.host ?? 'gateway').toLowerCase();
}

export interface Evaluation {
  readonly input: PolicyInput;
  readonly result: PolicyResult;
}

/**
 * POST /policy/evaluate: `{input}` is decided as given (at the decision path of its route when the
 * live table has it); `{route_id, subject, method?, path?, host?}` is first turned into the input
 * the gateway would build for a request matching that route (path defaults to the route's
 * template, method to its first method, host to one it answers).
 */
export async function evaluate(playground: PolicyPlayground, routes: readonly Route[], body: unknown, req: Request): Promise<Evaluation> {
  if (!isRecord(body)) throw invalid([{ path: '', message: 'expected an object with route_id and subject, or input' }]);
  if ('input' in body) {
    const extra = Object.keys(body).filter((k) => k !== 'input');
    if (extra.length) throw invalid(extra.map((k) => ({ path: k, message: 'not allowed next to input' })));
    const parsed = PolicyInputSchema.safeParse(body.input);
    if (!parsed.success) throw invalid(issuesOf('input', parsed.error.issues));
    const route = routes.find((r) => r.id === parsed.data.route.id);
    const result = await playground.decide(route?.policy ?? DEFAULT_DECISION_PATH, parsed.data);
    return { input: parsed.data, result };
  }

  const { route_id, subject, method, path, host, ...rest } = body;
  const errors: FieldError[] = Object.keys(rest).map((k) => ({ path: k, message: 'unknown field' }));
  if (typeof route_id !== 'string' || route_id === '') errors.push({ path: 'route_id', message: 'the id of a live route' });
  const parsedSubject = PolicyInputSchema.shape.subject.safeParse(subject);
  if (!parsedSubject.success) errors.push(...issuesOf('subject', parsedSubject.error.issues));
  if (method !== undefined && !(typeof method === 'string' && (HTTP_METHODS as readonly string[]).includes(method.toUpperCase()))) {
    errors.push({ path: 'method', message: `one of ${HTTP_METHODS.join(', ')}` });
  }
  if (path !== undefined && !(typeof path === 'string' && path.startsWith('/') && path.length <= 2048)) errors.push({ path: 'path', message: 'a path starting with /' });
  if (host !== undefined && !(typeof host === 'string' && host.length > 0 && host.length <= 256)) errors.push({ path: 'host', message: 'a host name' });
  if (errors.length) throw invalid(errors);

  const route = routes.find((r) => r.id === route_id);
  if (!route) throw new HttpProblem(404, `no live route ${String(route_id)}`, { extensions: { code: 'route_not_found' } });
  const request = {
    method: typeof method === 'string' ? method.toUpperCase() : (route.methods[0] ?? 'GET'),
    host: typeof host === 'string' ? host.toLowerCase() : defaultHost(route, req),
    path: typeof path === 'string' ? path : route.path,
  };
  // The route's own matcher gives the params, and says when the request would not reach this route.
  const match = compileRoutes([route]).match(request.method, request.host, request.path);
  if (match.kind !== 'route') {
    const field = match.kind === 'method_not_allowed' ? 'method' : typeof host === 'string' ? 'host' : 'path';
    throw invalid([{ path: field, message: `${request.method} ${request.host}${request.path} does not reach route ${route.id}` }]);
  }
  const input = await playground.inputFor(route, { ...request, params: match.params }, parsedSubject.data!);
  return { input, result: await playground.decide(route.policy, input) };
}
