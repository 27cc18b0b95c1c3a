import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCorrelation, requestContext, type GatewayContext } from '../src/index';

/** A request's context as the handler builds it before the stages run; `fields` set what a test needs. */
export function testContext(fields: Pick<GatewayContext, 'req' | 'res' | 'route'> & Partial<GatewayContext>): GatewayContext {
  const { req, res, route } = fields;
  const start = requestContext({ req, res, route, startedAt: process.hrtime.bigint(), receivedAt: Date.now(), correlation: readCorrelation(req.headers), routeVersion: 1, params: {}, path: '/x', query: '', host: 'gw.test', ip: null });
  return { ...start, ...fields };
}

/** A request with no socket and a response that only takes headers (for stages that answer nothing themselves). */
export function bareExchange(method = 'GET'): { req: IncomingMessage; res: ServerResponse; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const res = { setHeader: (k: string, v: string) => void (headers[k.toLowerCase()] = v) } as unknown as ServerResponse;
  return { req: { headers: {}, method } as IncomingMessage, res, headers };
}
