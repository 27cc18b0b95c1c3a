import { readFile } from 'node:fs/promises';
import type { ServiceConfig } from '../config/opa-config';
import { BundleError } from './archive';

export type DownloadResult =
  | { readonly status: 'modified'; readonly body: Buffer; readonly etag?: string; readonly httpCode: number }
  | { readonly status: 'not_modified'; readonly httpCode: number };

/** A download that failed; `httpCode` when the server answered. */
export class DownloadError extends BundleError {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly httpCode?: number,
  ) {
    super(message);
  }
}

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * Authorization for one service's requests. `bearer` re-reads `token_path` on every request (a
 * rotated token file is picked up, as OPA does); `gcp_metadata` asks the metadata server (Cloud
 * Run, GCE, GKE) for an access token, or an identity token when `audience` is set, and reuses it
 * until a minute before it expires.
 */
export class ServiceClient {
  private cached: CachedToken | undefined;

  constructor(readonly service: ServiceConfig) {}

  /** The `Authorization` header value for this service (undefined without credentials); also for other plugins calling it. */
  async authorization(): Promise<string | undefined> {
    const c = this.service.credentials;
    if (!c) return undefined;
    if (c.type === 'bearer') {
      const token = c.token_path ? (await readFile(c.token_path, 'utf8')).trim() : (c.token ?? '');
      return `${c.scheme} ${token}`;
    }
    if (this.cached && this.cached.expiresAt > Date.now()) return `Bearer ${this.cached.value}`;
    const base = `${c.endpoint.replace(/\/+$/, '')}/computeMetadata/v1/instance/service-accounts/default`;
    const url = c.audience
      ? `${base}/identity?audience=${encodeURIComponent(c.audience)}`
      : `${base}/token${c.scopes?.length ? `?scopes=${encodeURIComponent(c.scopes.join(','))}` : ''}`;
    const res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new DownloadError(`gcp_metadata: the metadata server answered HTTP ${res.status}`);
    if (c.audience) {
      const value = (await res.text()).trim();
      this.cached = { value, expiresAt: Date.now() + 50 * 60_000 };
    } else {
      const body = (await res.json()) as { access_token?: string; expires_in?: number };
      if (!body.access_token) throw new DownloadError('gcp_metadata: no access_token in the metadata server answer');
      this.cached = { value: body.access_token, expiresAt: Date.now() + Math.max(0, (body.expires_in ?? 300) - 60) * 1000 };
    }
    return `Bearer ${this.cached.value}`;
  }

  url(resource: string): string {
    return `${this.service.url.replace(/\/+$/, '')}/${resource.replace(/^\/+/, '')}`;
  }

  /** GET with the service's headers and credentials; `If-None-Match` when an ETag is known. */
  async download(resource: string, etag: string | undefined, sizeLimitBytes: number): Promise<DownloadResult> {
    const headers: Record<string, string> = { ...this.service.headers };
    let auth: string | undefined;
    try {
      auth = await this.authorization();
    } catch (err) {
      throw err instanceof DownloadError ? err : new DownloadError(`credentials: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (auth) headers['Authorization'] = auth;
    if (etag) headers['If-None-Match'] = etag;
    const url = this.url(resource);
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(this.service.response_header_timeout_seconds * 1000) });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new DownloadError(`request to ${url} failed${cause || (err instanceof Error ? `: ${err.message}` : '')}`);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 'not_modified', httpCode: 304 };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new DownloadError(`server replied with HTTP ${res.status}`, res.status);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > sizeLimitBytes) throw new DownloadError(`bundle exceeds size_limit_bytes (${sizeLimitBytes})`, 200);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > sizeLimitBytes) throw new DownloadError(`bundle exceeds size_limit_bytes (${sizeLimitBytes})`, 200);
    return { status: 'modified', body, etag: res.headers.get('etag') ?? undefined, httpCode: 200 };
  }
}
