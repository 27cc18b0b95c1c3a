/** Where the console finds identity and which OAuth client it is, read once at start-up. */
export interface ConsoleConfig {
  /** Identity's base URL (authorization and token endpoints). */
  readonly identityUrl: string;
  readonly clientId: string;
  /** Base path of the audit API on the gateway's origin. */
  readonly auditBase: string;
}

export const BASE_PATH = import.meta.env.BASE_URL.replace(/\/$/, '');

/**
 * `config.json` next to index.html, when the deployment provides one: the same build then runs
 * against any identity. Without it, the demo's layout: identity on port 3333 of the same host.
 */
export async function loadConfig(): Promise<ConsoleConfig> {
  const defaults: ConsoleConfig = {
    identityUrl: `${location.protocol}//${location.hostname}:3333`,
    clientId: 'operator-console',
    auditBase: '/v1/audit',
  };
  try {
    const res = await fetch(`${BASE_PATH}/config.json`, { cache: 'no-store' });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return defaults;
    const body = (await res.json()) as Partial<Record<'identity_url' | 'client_id' | 'audit_base', unknown>>;
    return {
      identityUrl: typeof body.identity_url === 'string' ? body.identity_url.replace(/\/$/, '') : defaults.identityUrl,
      clientId: typeof body.client_id === 'string' ? body.client_id : defaults.clientId,
      auditBase: typeof body.audit_base === 'string' ? body.audit_base.replace(/\/$/, '') : defaults.auditBase,
    };
  } catch {
    return defaults;
  }
}
