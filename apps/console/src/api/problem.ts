/** An API answer that was not a success, as problem+json (RFC 9457) or what could be made of it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    /** Field errors of a 422: path (e.g. `upstream`, `rate_limit.per_minute`) and message. */
    readonly fieldErrors: readonly { path: string; message: string }[] = [],
    readonly reasons: readonly string[] = [],
  ) {
    super(detail ?? title);
  }

  /** One sentence a person can read. */
  get readable(): string {
    const what = STATUS_WORDS[this.status];
    const text = this.detail && this.detail !== this.title ? `${this.title}: ${this.detail}` : this.title;
    return what ? `${what} (${text})` : text;
  }
}

const STATUS_WORDS: Record<number, string> = {
  401: 'Your session has ended; sign in again',
  403: 'You are not allowed to do this',
  404: 'Not found',
  409: 'This conflicts with the current state',
  422: 'Some fields need attention',
  429: 'Too many requests; wait a moment',
  502: 'A service behind the gateway did not answer properly',
  503: 'A service is unavailable right now',
  504: 'A service took too long to answer',
};

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Reads a failed response into an ApiError, whatever its body is. */
export async function problemOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status speaks for itself
  }
  const title = typeof body.title === 'string' ? body.title : res.statusText || `HTTP ${res.status}`;
  const detail = typeof body.detail === 'string' ? body.detail : undefined;
  const errors = Array.isArray(body.errors)
    ? body.errors.flatMap((e: unknown) => {
        const r = e as { path?: unknown; message?: unknown };
        return typeof r?.message === 'string' ? [{ path: typeof r.path === 'string' ? r.path : '', message: r.message }] : [];
      })
    : [];
  return new ApiError(res.status, title, detail, errors, stringList(body.reasons));
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.readable;
  if (err instanceof Error) return err.message;
  return String(err);
}
