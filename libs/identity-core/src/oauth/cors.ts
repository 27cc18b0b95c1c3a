import type { RequestHandler } from 'express';
import { sql } from 'kysely';
import type { IdentityContext } from '../context';

const ORIGIN = /^https?:\/\/[A-Za-z0-9.[\]:-]{1,300}$/;

/**
 * CORS for the endpoints a browser app calls itself (token, revocation): only origins of
 * registered redirect URIs are let to read the answers, without credentials (the app holds its
 * tokens in memory, there are no cookies to send). Other origins get no CORS headers at all.
 * Preflights are answered here; a form POST needs none.
 */
export function redirectOriginCors(ctx: IdentityContext): RequestHandler {
  const registered = async (origin: string) => {
    if (!ORIGIN.test(origin)) return false;
    const row = await sql<{ found: number }>`SELECT 1 AS found FROM oauth_clients, unnest(redirect_uris) AS uri
      WHERE 'authorization_code' = ANY (grant_types) AND (uri = ${origin} OR starts_with(uri, ${`${origin}/`})) LIMIT 1`.execute(ctx.db);
    return row.rows.length > 0;
  };
  return async (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) {
      next();
      return;
    }
    res.vary('Origin');
    const allowed = await registered(origin);
    if (allowed) res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (allowed) {
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  };
}
