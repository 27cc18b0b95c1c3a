import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { parse } from 'node:querystring';
import { HttpProblem } from '@cloud-stack/service-kit';
import { formFields } from '../oauth/params';

const FORM = /^application\/x-www-form-urlencoded\s*(?:;\s*charset="?utf-8"?\s*)?$/i;
/** As Express's urlencoded parser is configured (parameterLimit). */
const MAX_PARAMETERS = 100;

/**
 * True when the hot path can read this body itself: a form, UTF-8, not compressed. Anything else
 * (gzip, another charset, another type) goes to Express, which answers it as before.
 */
export function isPlainForm(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['content-encoding'];
  return type !== undefined && FORM.test(type) && (encoding === undefined || encoding.toLowerCase() === 'identity');
}

/**
 * Reads a form body of at most `max` bytes and calls `done` once, with its fields (each a single
 * string; a repeated parameter is invalid_request) or with the error to answer.
 */
export function readForm(req: IncomingMessage, max: number, done: (err: unknown, fields?: Record<string, string>) => void): void {
  const tooLarge = () => new HttpProblem(413, 'request body exceeds the size limit');
  if (Number(req.headers['content-length']) > max) {
    req.resume();
    done(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: unknown, fields?: Record<string, string>) => {
    if (finished) return;
    finished = true;
    if (err) req.resume();
    done(err, fields);
  };
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > max) finish(tooLarge());
    else chunks.push(chunk);
  });
  req.once('error', (err) => finish(err));
  req.once('end', () => {
    if (finished) return;
    try {
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
      const parsed = parse(text, '&', '=', { maxKeys: MAX_PARAMETERS + 1 });
      if (Object.keys(parsed).length > MAX_PARAMETERS) throw new HttpProblem(413, 'too many parameters');
      finish(undefined, formFields(parsed));
    } catch (err) {
      finish(err);
    }
  });
}
