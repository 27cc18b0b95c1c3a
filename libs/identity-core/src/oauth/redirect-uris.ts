const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why `uri` cannot be registered as a redirect URI, or undefined when it can. OAuth 2.1 / RFC 9700
 * §4.1: an absolute URI compared by exact string match, so no wildcards and no fragment; https,
 * or http only on a loopback host (a developer's machine, the demo).
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2000) return 'is longer than 2000 characters';
  if (uri.includes('*')) return 'may not contain wildcards';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'may not have a fragment';
  if (url.username || url.password) return 'may not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must use https (http only on localhost, 127.0.0.1 or [::1])';
}

/** The origin (scheme, host, port) of a registered redirect URI: what CORS answers to. */
export function redirectOrigin(uri: string): string {
  return new URL(uri).origin;
}
