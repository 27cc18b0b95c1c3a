import { Agent, request } from 'node:http';
import { context, propagation } from '@opentelemetry/api';
import { PolicyResultSchema, type PolicyInput } from '@cloud-stack/contracts';
import { PolicyUnavailableError, type Decision, type PolicyClient, type PolicyListing, type PolicyModule } from './policy-client';

export interface SidecarClientOptions {
  /** Base URL of the policy-sidecar or OPA, e.g. http://127.0.0.1:8181. */
  readonly url: string;
  /** Sent as `Authorization: Bearer …` when the sidecar runs with token authentication. */
  readonly token?: string;
  readonly timeoutMs: number;
  /** Most open connections to the sidecar. */
  readonly maxSockets?: number;
}

/**
 * OPA's Data API over keep-alive HTTP: `POST /v1/data/{path}` with `{input}`, works unchanged
 * against a real OPA. node:http rather than fetch: the decision is on every uncached request, and
 * fetch costs several times more per call.
 */
export function sidecarPolicyClient(options: SidecarClientOptions): PolicyClient {
  const base = new URL(options.url);
  if (base.protocol !== 'http:') throw new TypeError(`POLICY_URL must be http:// (got ${options.url})`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const prefix = base.pathname.replace(/\/$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  function post(path: string, body: string): Promise<{ status: number; text: string }> {
    const sent: Record<string, string | number> = { ...headers, 'content-length': Buffer.byteLength(body) };
    // node:http imported from ESM is not instrumented: the request's trace context goes to the sidecar by hand.
    propagation.inject(context.active(), sent);
    return new Promise((resolve, reject) => {
      const req = request(
        { agent, host: base.hostname, port: base.port || 80, method: 'POST', path: `${prefix}${path}`, headers: sent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function decide(path: string, input: PolicyInput): Promise<Decision> {
    let answer;
    try {
      answer = await post(`/v1/data/${path}`, JSON.stringify({ input }));
    } catch (err) {
      throw new PolicyUnavailableError(`policy request failed: ${(err as Error).message}`);
    }
    if (answer.status !== 200) throw new PolicyUnavailableError(`policy answered ${answer.status}`);
    let body: { result?: unknown; decision_id?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      throw new PolicyUnavailableError('policy answer is not JSON');
    }
    if (body.result === undefined) throw new PolicyUnavailableError(`the policy defines no decision at ${path}`);
    const parsed = PolicyResultSchema.safeParse(body.result);
    if (!parsed.success) throw new PolicyUnavailableError(`the decision at ${path} is not a PolicyResult`);
    return { result: parsed.data, decisionId: typeof body.decision_id === 'string' ? body.decision_id : null };
  }

  /** A GET of the sidecar's (or OPA's) REST API with the gateway's token; undefined when it answers 404. */
  async function getJson(path: string): Promise<unknown> {
    const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
    let res: Response;
    try {
      res = await fetch(new URL(`${prefix}${path}`, base), { headers: { accept: 'application/json', ...auth }, signal: AbortSignal.timeout(options.timeoutMs * 4) });
    } catch (err) {
      throw new PolicyUnavailableError(`policy request failed: ${(err as Error).message}`);
    }
    if (res.status === 404) return undefined;
    if (res.status === 401 || res.status === 403) {
      // The sidecar's built-in system.authz lets a client token decide, not read the API.
      throw new PolicyUnavailableError(`policy ${path} answered ${res.status}: its system.authz must allow POLICY_TOKEN to GET /v1/policies and /v1/status`);
    }
    if (!res.ok) throw new PolicyUnavailableError(`policy ${path} answered ${res.status}`);
    return res.json().catch(() => {
      throw new PolicyUnavailableError(`policy ${path} answer is not JSON`);
    });
  }

  /**
   * OPA names a revision per bundle (`/v1/status`); without bundles the sidecar names the
   * revision of its policy directory on `/ready`. Neither: null.
   */
  async function revision(): Promise<string | null> {
    const status = (await getJson('/v1/status')) as { result?: { bundles?: Record<string, { active_revision?: unknown }> } } | undefined;
    const bundles = Object.entries(status?.result?.bundles ?? {})
      .filter(([, b]) => typeof b.active_revision === 'string' && b.active_revision !== '')
      .map(([name, b]) => `${name}@${String(b.active_revision)}`)
      .sort();
    if (bundles.length) return bundles.join(', ');
    const ready = (await getJson('/ready').catch(() => undefined)) as { revision?: unknown } | undefined;
    return typeof ready?.revision === 'number' || typeof ready?.revision === 'string' ? String(ready.revision) : null;
  }

  async function describe(): Promise<PolicyListing> {
    const listing = (await getJson('/v1/policies')) as { result?: unknown } | undefined;
    if (!Array.isArray(listing?.result)) throw new PolicyUnavailableError('the policy service does not list its policies');
    const modules: PolicyModule[] = listing.result
      .filter((m): m is { id: string; raw: string } => typeof m?.id === 'string' && typeof m?.raw === 'string')
      .map((m) => ({ id: m.id, raw: m.raw }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { mode: 'sidecar', revision: await revision().catch(() => null), modules };
  }

  return {
    decide,
    describe,
    async check() {
      const res = await fetch(new URL('/health', base), { signal: AbortSignal.timeout(options.timeoutMs * 4) });
      if (!res.ok) throw new Error(`policy /health answered ${res.status}`);
    },
    async close() {
      agent.destroy();
    },
  };
}
