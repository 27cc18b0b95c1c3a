import { context, propagation } from '@opentelemetry/api';
import { IntrospectionResponseSchema, type IntrospectionResponse } from '@cloud-stack/contracts';
import { IdentityUnavailableError } from '../errors';

/** One RFC 7662 call: where, as whom, how long to wait. */
export interface IntrospectionEndpoint {
  readonly url: string;
  /** The `Authorization` header (client_secret_basic, RFC 6749 §2.3.1). */
  readonly authorization: string;
  readonly timeoutMs: number;
}

export function introspectionEndpoint(baseUrl: string, clientId: string, clientSecret: string, timeoutMs: number): IntrospectionEndpoint {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/oauth/introspect`).toString();
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return { url, authorization: `Basic ${Buffer.from(credentials).toString('base64')}`, timeoutMs };
}

/** Asks identity about `token`; anything but a 200 with an RFC 7662 body is IdentityUnavailableError. */
export async function requestIntrospection(endpoint: IntrospectionEndpoint, token: string): Promise<IntrospectionResponse> {
  const headers: Record<string, string> = { authorization: endpoint.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  // fetch is not instrumented: the caller's trace context goes to identity by hand.
  propagation.inject(context.active(), headers);
  let res: Response;
  try {
    res = await fetch(endpoint.url, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'TimeoutError') {
      throw new IdentityUnavailableError('timeout', `introspection took longer than ${endpoint.timeoutMs} ms`, { cause: err });
    }
    throw new IdentityUnavailableError('network', `introspection failed: ${describe(err)}`, { cause: err });
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new IdentityUnavailableError('http_status', `introspection answered ${res.status}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    const code = err instanceof DOMException && err.name === 'TimeoutError' ? 'timeout' : 'malformed_answer';
    throw new IdentityUnavailableError(code, `introspection answer unreadable: ${describe(err)}`, { cause: err });
  }
  const parsed = IntrospectionResponseSchema.safeParse(body);
  if (!parsed.success) throw new IdentityUnavailableError('malformed_answer', 'introspection answer does not match RFC 7662');
  return parsed.data;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
