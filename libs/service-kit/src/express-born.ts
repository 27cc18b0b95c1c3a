import { IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/** What Express gives each request and response: `app.request` and `app.response`. */
export type ExpressPrototypes = Pick<Express, 'request' | 'response'>;

/**
 * node:http options under which every request and response is created with an Express app's
 * prototypes. Express re-parents each one per request (`Object.setPrototypeOf` in `app.handle`),
 * and V8 answers a prototype change on an object that already has its shape with new hidden-class
 * data in the old generation: with express 5 on Node 20, scavenges of 2-8 ms instead of 0.2-0.3 ms
 * and an old generation growing ~20 KB per request until a full collection, on a handler that only
 * answers. Born with the right prototype, Express's re-parenting changes nothing (V8 returns early
 * when the prototype is already the one asked for).
 *
 * Node's IncomingMessage and ServerResponse are plain constructor functions, so a constructor of
 * our own can run them on an object whose prototype chain is Express's (theirs comes after it).
 */
export function expressBorn(app: ExpressPrototypes): Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  function Request(this: IncomingMessage, ...args: [Socket]): void {
    Reflect.apply(IncomingMessage, this, args);
  }
  Request.prototype = app.request;
  function Response(this: ServerResponse, ...args: [IncomingMessage, unknown?]): void {
    Reflect.apply(ServerResponse, this, args);
  }
  Response.prototype = app.response;
  return {
    IncomingMessage: Request as unknown as typeof IncomingMessage,
    ServerResponse: Response as unknown as typeof ServerResponse,
  };
}

/** `listener` itself when it is an Express app (a function carrying `request` and `response`). */
export function expressOf(listener: unknown): ExpressPrototypes | undefined {
  const app = listener as Partial<ExpressPrototypes>;
  return typeof listener === 'function' && typeof app.request === 'object' && typeof app.response === 'object' ? (app as ExpressPrototypes) : undefined;
}
