import { BASE_PATH, type ConsoleConfig } from '../config';
import { randomVerifier, s256 } from './pkce';

const PENDING_KEY = 'cloud-stack-console:pending-sign-in';
const SCOPE = 'openid api admin';

interface PendingSignIn {
  readonly verifier: string;
  readonly state: string;
  /** Where the user was when sign-in started, to return there. */
  readonly returnTo: string;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

export class SignInError extends Error {}

export function redirectUri(): string {
  return `${location.origin}${BASE_PATH}/callback`;
}

/**
 * The signed-in session. Tokens live only in this object (memory): a reload or a new tab signs in
 * again. Only the PKCE verifier and state survive the round trip to identity, in sessionStorage,
 * and are removed as soon as the callback has used them.
 */
export class Session {
  private accessToken: string | null = null;
  private refreshToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private listeners = new Set<() => void>();

  constructor(readonly config: ConsoleConfig) {}

  get signedIn(): boolean {
    return this.accessToken !== null;
  }

  get token(): string | null {
    return this.accessToken;
  }

  /** The e-mail claim of the access token, for display only (the gateway decides what the token may do). */
  get email(): string | null {
    const payload = this.accessToken?.split('.')[1];
    if (!payload) return null;
    try {
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { email?: unknown };
      return typeof claims.email === 'string' ? claims.email : null;
    } catch {
      return null;
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends the browser to identity's sign-in page. */
  async signIn(returnTo: string): Promise<void> {
    const verifier = randomVerifier();
    const state = randomVerifier();
    const pending: PendingSignIn = { verifier, state, returnTo };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(`${this.config.identityUrl}/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: redirectUri(),
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      state,
      scope: SCOPE,
    }).toString();
    location.assign(url.toString());
  }

  /** Completes the sign-in on the callback page; returns the path to go back to. */
  async completeSignIn(query: URLSearchParams): Promise<string> {
    const stored = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    const pending = stored ? (JSON.parse(stored) as PendingSignIn) : null;
    const error = query.get('error');
    if (error) throw new SignInError(`Identity refused the sign-in: ${query.get('error_description') ?? error}.`);
    if (!pending) throw new SignInError('This sign-in was not started in this browser tab (or was already used). Sign in again.');
    if (query.get('state') !== pending.state) throw new SignInError('The sign-in answer does not belong to this tab (state mismatch). Sign in again.');
    const code = query.get('code');
    if (!code) throw new SignInError('Identity sent no authorization code. Sign in again.');
    await this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(), code_verifier: pending.verifier, client_id: this.config.clientId });
    return pending.returnTo;
  }

  /** A new access token with the refresh token (rotated: the old one is spent). False when that fails. */
  refresh(): Promise<boolean> {
    if (!this.refreshToken) return Promise.resolve(false);
    this.refreshing ??= this.tokenRequest({ grant_type: 'refresh_token', refresh_token: this.refreshToken, client_id: this.config.clientId })
      .then(() => true)
      .catch(() => {
        this.clear();
        return false;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** Revokes the refresh token (and with it its family) at identity, then forgets everything. */
  async signOut(): Promise<void> {
    const token = this.refreshToken;
    this.clear();
    if (!token) return;
    await fetch(`${this.config.identityUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'refresh_token', client_id: this.config.clientId }),
    }).catch(() => undefined);
  }

  private clear(): void {
    clearTimeout(this.timer);
    this.accessToken = null;
    this.refreshToken = null;
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private async tokenRequest(fields: Record<string, string>): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.config.identityUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    } catch {
      throw new SignInError(`Identity (${this.config.identityUrl}) cannot be reached.`);
    }
    const body = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
    if (!res.ok || !body.access_token) throw new SignInError(`Identity refused the token request: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}.`);
    this.accessToken = body.access_token;
    if (body.refresh_token) this.refreshToken = body.refresh_token;
    clearTimeout(this.timer);
    // Refreshed a little before it expires, so requests rarely meet an expired token.
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 300;
    this.timer = setTimeout(() => void this.refresh(), Math.max(10, lifetime - 30) * 1000);
    this.emit();
  }
}
