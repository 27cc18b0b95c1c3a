import { createHash } from 'node:crypto';
import type { Response } from 'express';

// The one stylesheet, inline and allowed by its hash: the page loads nothing from anywhere.
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}
main{max-width:24rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0003}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin-top:1rem}
input{box-sizing:border-box;width:100%;padding:.6rem;margin-top:.25rem;font:inherit;border:1px solid #6b7280;border-radius:4px}
input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{margin-top:1.5rem;width:100%;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:4px;cursor:pointer}
.error{color:#991b1b;background:#fee2e2;padding:.6rem;border-radius:4px}`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * Headers of every page identity serves: no caching, no framing (clickjacking), no scripts at
 * all, and forms may post only to identity and to `redirectOrigin` (browsers apply form-action
 * to the redirect that follows a successful sign-in).
 */
function pageHeaders(res: Response, redirectOrigin: string | undefined): void {
  const formAction = redirectOrigin ? `'self' ${redirectOrigin}` : "'none'";
  res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.type('html');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>
`;
}

export interface LoginForm {
  readonly clientName: string;
  /** The per-form CSRF token, posted back with the credentials. */
  readonly formToken: string;
  readonly redirectOrigin: string;
  readonly email?: string;
  readonly error?: string;
}

/** The sign-in form of the authorization endpoint. */
export function sendLoginForm(res: Response, status: number, form: LoginForm): void {
  pageHeaders(res, form.redirectOrigin);
  const error = form.error ? `<p class="error" role="alert" id="form-error">${escape(form.error)}</p>` : '';
  const described = form.error ? ' aria-describedby="form-error"' : '';
  res.status(status).send(
    page(
      'Sign in · Cloud Stack',
      `<h1>Sign in to ${escape(form.clientName)}</h1>${error}
<form method="post" action="/oauth/authorize"${described}>
<input type="hidden" name="csrf_token" value="${escape(form.formToken)}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escape(form.email ?? '')}"${form.email ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${form.email ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`,
    ),
  );
}

/** A request identity will not redirect back with (unknown client or redirect URI, stale form): said on the page. */
export function sendErrorPage(res: Response, status: number, message: string): void {
  pageHeaders(res, undefined);
  res.status(status).send(page('Sign-in problem · Cloud Stack', `<h1>Cannot sign in</h1><p class="error" role="alert">${escape(message)}</p><p>Go back to the application and start the sign-in again.</p>`));
}
