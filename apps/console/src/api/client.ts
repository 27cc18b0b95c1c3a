import type { Session } from '../auth/session';
import { ApiError, problemOf } from './problem';

/** Same-origin calls to the gateway with the session's bearer token; a 401 refreshes once and retries. */
export class Api {
  constructor(private readonly session: Session) {}

  get auditBase(): string {
    return this.session.config.auditBase;
  }

  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    const send = () => {
      const headers = new Headers(init.headers);
      if (this.session.token) headers.set('authorization', `Bearer ${this.session.token}`);
      return fetch(path, { ...init, headers });
    };
    let res: Response;
    try {
      res = await send();
      if (res.status === 401 && (await this.session.refresh())) res = await send();
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'The gateway cannot be reached', 'check that it is running');
    }
    if (!res.ok) throw await problemOf(res);
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(path, init);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.json<T>(path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  }
}

export const ADMIN = '/__gateway/admin';
