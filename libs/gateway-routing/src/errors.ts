import type { z } from 'zod';

export type RoutingErrorCode =
  | 'invalid_routes'
  | 'version_not_found'
  | 'route_not_found'
  | 'version_not_editable'
  | 'no_previous_version';

/** One problem with submitted routes, located by its path in the submitted document (`routes[2].path`). */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** Base of every error this lib raises on purpose; callers switch on `code`. */
export class RoutingError extends Error {
  constructor(
    readonly code: RoutingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RoutingError';
  }
}

/** Routes (or a route file) that do not validate; `issues` name each bad field. */
export class RouteValidationError extends RoutingError {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super('invalid_routes', issues.length === 1 ? `${issues[0]!.path}: ${issues[0]!.message}` : `${issues.length} problems in the routes`);
    this.name = 'RouteValidationError';
  }
}

/** `routes[2].hosts[0]` from a base path and a zod issue path. */
export function issuePath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

export function zodIssues(base: string, error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issuePath(base, issue.path), message: issue.message }));
}
