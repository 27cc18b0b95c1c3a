import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { HttpProblem } from './problem';

/**
 * Deepest JSON nesting a service accepts. Go's encoding/json (so OPA) stops at 10000; here
 * JSON.stringify and every recursive consumer (zod, the Rego engine, pino) overflow the stack
 * a few thousand levels down, so the limit sits well below that and no real document reaches it.
 */
export const MAX_JSON_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Where JSON text first nests deeper than `max` (the offset of the bracket that does), or -1.
 * One linear pass over the text, run before JSON.parse so nothing recursive ever sees the
 * document: brackets inside strings do not count. It is not a validator; malformed text is left
 * to the parser. On UTF-8 bytes it gives the same answer as on the decoded string, since no byte
 * of a multi-byte character is ASCII.
 */
export function jsonDepthExceeded(text: string | Uint8Array, max: number = MAX_JSON_DEPTH): number {
  // Nesting past `max` takes more than `max` characters: most bodies need no scan at all.
  if (text.length <= max) return -1;
  // Two copies of one loop: a shared loop reading through a callback runs several times slower.
  let depth = 0;
  let inString = false;
  if (typeof text === 'string') {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > max) return i;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    }
    return -1;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return -1;
}

/** The problem for an over-deep body, naming the limit. */
function tooDeep(max: number = MAX_JSON_DEPTH): HttpProblem {
  return new HttpProblem(400, `request body nests JSON deeper than ${max} levels`);
}

export interface JsonBodyOptions {
  readonly limit: string | number;
  /** Default MAX_JSON_DEPTH. */
  readonly maxDepth?: number;
  /** Content types parsed (default application/json and application/*+json). */
  readonly type?: string | string[];
  /** false: any JSON value as the body, not only objects and arrays (body-parser's `strict`). */
  readonly strict?: boolean;
}

/**
 * express.json with the platform's nesting limit: an over-deep body is refused with a 400
 * problem before JSON.parse runs (body-parser's `verify` hook sees the raw bytes).
 */
export function jsonBody(options: JsonBodyOptions): RequestHandler {
  const max = options.maxDepth ?? MAX_JSON_DEPTH;
  return express.json({
    limit: options.limit,
    type: options.type ?? ['application/json', 'application/*+json'],
    strict: options.strict ?? true,
    verify: (_req: IncomingMessage, _res, buf: Buffer, encoding: string) => {
      const utf8 = /^utf-?8$/i.test(encoding);
      if (!utf8 && !Buffer.isEncoding(encoding)) return; // body-parser answers 415 for it
      if (jsonDepthExceeded(utf8 ? buf : buf.toString(encoding as BufferEncoding), max) >= 0) throw tooDeep(max);
    },
  });
}
