import { z } from 'zod';
import { HTTP_METHODS, type HttpMethod } from '@cloud-stack/gateway-routing';

/** One path of a backend's OpenAPI document, with the methods it serves. */
export interface ApiPath {
  /** As written in the document: `/agents/{agentId}/execute`. */
  readonly path: string;
  readonly methods: readonly HttpMethod[];
  /** `x-permission` of the path's operations, when they agree on one. */
  readonly permission: string | null;
}

const OperationSchema = z.looseObject({ 'x-permission': z.string().optional() });
const OpenApiSchema = z.looseObject({
  openapi: z.string().regex(/^3\./, 'not 3.x'),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
});

/** The paths and methods an OpenAPI 3 document describes (TRACE and non-operation keys left out). */
export function readOpenApi(doc: unknown): ApiPath[] {
  const result = OpenApiSchema.safeParse(doc);
  if (!result.success) {
    const first = result.error.issues[0]!;
    throw new Error(`not an OpenAPI 3 document (${first.path.join('.') || 'document'}: ${first.message})`);
  }
  const parsed = result.data;
  const out: ApiPath[] = [];
  for (const [path, item] of Object.entries(parsed.paths)) {
    const methods: HttpMethod[] = [];
    const permissions = new Set<string>();
    for (const method of HTTP_METHODS) {
      const op = item[method.toLowerCase()];
      if (op === undefined) continue;
      methods.push(method);
      const permission = OperationSchema.safeParse(op).data?.['x-permission'];
      if (permission !== undefined) permissions.add(permission);
    }
    if (methods.length) out.push({ path, methods, permission: permissions.size === 1 ? [...permissions][0]! : null });
  }
  return out;
}
