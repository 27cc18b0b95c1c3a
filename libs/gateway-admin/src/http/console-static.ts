import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import express, { Router, type Response } from 'express';
import { HttpProblem, sendProblem } from '@cloud-stack/service-kit';

export interface ConsoleStaticOptions {
  /** The built SPA (Vite's `dist`): index.html and hashed files under assets/. */
  readonly dir: string;
  /** Origins the SPA may call besides its own (identity's token endpoint). */
  readonly connectOrigins: readonly string[];
  /**
   * Served as `config.json` (the SPA reads it at start-up): the deployment's settings, such as the
   * identity URL, so the app calls the very origin the page policy allows.
   */
  readonly clientConfig?: Readonly<Record<string, string>>;
}

const YEAR_SECONDS = 365 * 24 * 3600;

/** The console's page policy: its own scripts only; fetches to the gateway and identity. */
export function consoleCsp(connectOrigins: readonly string[]): string {
  const others = [...new Set(connectOrigins.map((o) => new URL(o).origin))];
  const connect = ["'self'", ...others].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Chart and UI libraries set style attributes from script.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'self'",
    `form-action ${connect}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

/** True when a request path (still percent-encoded) could leave the directory. */
function escapes(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..');
}

/**
 * Serves the operator console, a single-page app, mounted at `/__gateway/console`: hashed files
 * under assets/ cached for a year, everything else revalidated; any other GET that names no file
 * answers index.html, so the sign-in callback and deep links load the app. A directory that is
 * not built answers 404 saying so (checked per request: building while the gateway runs works).
 */
export function consoleStatic(options: ConsoleStaticOptions): Router {
  const root = resolve(options.dir);
  const index = join(root, 'index.html');
  const csp = consoleCsp(options.connectOrigins);
  const router = Router();

  const pageHeaders = (res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // The sign-in callback's URL carries the authorization code: no Referer takes it elsewhere.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
  };

  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendProblem(req, res, new HttpProblem(405, `${req.method} is not allowed on the console`, { headers: { Allow: 'GET, HEAD' } }));
    }
    if (!existsSync(index)) {
      return sendProblem(req, res, new HttpProblem(404, `the operator console is not built (no ${index}): run npx nx run @cloud-stack/console:build`));
    }
    const [pathname, query] = req.originalUrl.split(/\?(.*)/s) as [string, string | undefined];
    // Relative asset URLs resolve against the directory only with its trailing slash.
    if (req.path === '/' && !pathname.endsWith('/')) return res.redirect(301, `${pathname}/${query ? `?${query}` : ''}`);
    if (escapes(req.path)) return sendProblem(req, res, new HttpProblem(404, 'no such file'));
    next();
  });

  const clientConfig = options.clientConfig;
  if (clientConfig) {
    router.get('/config.json', (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.json(clientConfig);
    });
  }

  router.use(
    express.static(root, {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders(res, file) {
        if (file === index) return pageHeaders(res);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        if (file.startsWith(join(root, 'assets') + sep)) res.setHeader('Cache-Control', `public, max-age=${YEAR_SECONDS}, immutable`);
        else res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );

  // A missing hashed file is a 404, not the app: a browser would otherwise run HTML as script.
  router.use('/assets', (req, res) => sendProblem(req, res, new HttpProblem(404, `no such console file: assets${req.path}`)));

  router.use((_req, res, next) => {
    pageHeaders(res);
    res.sendFile(index, { cacheControl: false, lastModified: true }, (err) => {
      if (err && !res.headersSent) next(err);
    });
  });
  return router;
}
