import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { OpaHttpError } from '../opa/errors';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** '100kb', '1mb', '512' → bytes (body-parser's notation). */
export function parseByteSize(limit: string | number): number {
  if (typeof limit === 'number') return limit;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new TypeError(`not a byte size: ${limit}`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

const tooLarge = () => new OpaHttpError(413, 'invalid_parameter', 'request body too large');

/**
 * Reads a request body of at most `max` bytes (after inflating gzip or deflate) and calls `done`
 * once, with the body or with an OPA error (413 over the limit, 415 unknown encoding, 400 bad
 * compressed data). A declared Content-Length over the limit is refused before reading.
 */
export function collectBody(req: IncomingMessage, max: number, done: (err: unknown, body?: Buffer) => void): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    req.resume();
    done(tooLarge());
    return;
  }
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  let stream: NodeJS.ReadableStream = req;
  let inflater: Gunzip | Inflate | undefined;
  if (encoding === 'gzip') inflater = createGunzip();
  else if (encoding === 'deflate') inflater = createInflate();
  else if (encoding !== 'identity') {
    req.resume();
    done(new OpaHttpError(415, 'invalid_parameter', `unsupported content encoding ${encoding}`));
    return;
  }
  if (inflater) stream = req.pipe(inflater);
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err?: unknown) => {
    if (finished) return;
    finished = true;
    stream.removeListener('data', onData);
    if (err) {
      req.resume();
      inflater?.destroy();
      done(err);
      return;
    }
    done(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) finish(tooLarge());
    else chunks.push(chunk);
  };
  stream.on('data', onData);
  stream.once('end', () => finish());
  stream.once('error', (err: Error) => finish(inflater ? OpaHttpError.badRequest(`malformed ${encoding} body: ${err.message}`) : err));
}

/** `collectBody` as Express middleware: the body lands in `req.body` as a Buffer. */
export function readBody(limit: string | number): RequestHandler {
  const max = parseByteSize(limit);
  return (req, _res, next) => {
    // Already read (the authorizer reads the bodies it decides on): the stream is spent.
    if (Buffer.isBuffer(req.body)) return next();
    collectBody(req, max, (err, body) => {
      if (err) return next(err);
      req.body = body;
      next();
    });
  };
}
