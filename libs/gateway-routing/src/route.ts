import { z } from 'zod';

/** The pipeline stages a route can switch on, in the order they always run. */
export const STAGE_IDS = ['auth', 'policy', 'rate_limit', 'budget', 'audit'] as const;
export const StageIdSchema = z.enum(STAGE_IDS);
export type StageId = z.infer<typeof StageIdSchema>;

/** What a stage does when the dependency it needs does not answer. */
export const FailureModeSchema = z.enum(['closed', 'open']);
export type FailureMode = z.infer<typeof FailureModeSchema>;

/** Methods a route may list. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

// `api.example.com` or `*.example.com` (one or more labels in place of the star); lower case.
const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$/;
// `/api/agents/{id}/execute`, `/api/admin/*` (a trailing `*` matches the rest of the path).
const PATH_TEMPLATE = /^\/(([A-Za-z0-9._~!$&'()+,=@-]+|\{[A-Za-z_][A-Za-z0-9_]{0,63}\})(\/([A-Za-z0-9._~!$&'()+,=@-]+|\{[A-Za-z_][A-Za-z0-9_]{0,63}\}))*)?(\/\*)?$|^\/\*$/;

/**
 * One route as an operator writes it (admin API, route file) and as it is stored per version.
 * Defaults make a minimal route `{ id, path, upstream }` a fully authenticated, authorized,
 * rate-limited, audited route. Unknown keys are rejected: a misspelt `permision` would otherwise
 * leave the route public without a word.
 */
export const RouteFieldsSchema = z.strictObject({
  /** Stable name, unique within a version: `agents.execute`. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits and . _ : - (at most 128)'),
  /** The product (target backend) the route belongs to. */
  product: z.string().min(1).max(128).nullable().default(null),
  /** Hosts it answers for; empty = any host. Exact (`api.example.com`) or wildcard (`*.example.com`). */
  hosts: z.array(z.string().toLowerCase().regex(HOST_PATTERN, 'a host name or *.domain')).max(64).default([]),
  /** Path template: literal segments, `{param}` segments, and an optional trailing `/*`. */
  path: z
    .string()
    .max(1024)
    .regex(PATH_TEMPLATE, 'a path template like /api/agents/{id}/execute or /api/admin/*')
    .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'no . or .. segments'),
  /** Methods it answers; empty = every method. */
  methods: z.array(z.enum(HTTP_METHODS)).max(HTTP_METHODS.length).default([]),
  /** Target URL; its path is prepended to the forwarded path. */
  upstream: z.url({ protocol: /^https?$/ }),
  /** Where trial traffic goes when the policy obliges `route_to: sandbox`; null = no sandbox (such traffic is refused). */
  sandbox_upstream: z.url({ protocol: /^https?$/ }).nullable().default(null),
  /** Removed from the start of the request path before forwarding (e.g. `/api`). */
  strip_prefix: z.string().regex(/^\/[^?#]*$/).nullable().default(null),
  /** The route's pipeline; a stage not listed does not run. */
  stages: z.array(StageIdSchema).max(STAGE_IDS.length).default([...STAGE_IDS]),
  /** Permission the policy checks (`agent:execute`); "" = public route. */
  permission: z.string().max(128).default(''),
  requires_governor: z.boolean().default(false),
  /** Cost of one request against the agent's monthly budget. */
  cost: z.number().nonnegative().max(1e9).default(0),
  rate_limit: z
    .strictObject({
      per_minute: z.number().int().positive().nullable().default(null),
      per_hour: z.number().int().positive().nullable().default(null),
    })
    .default({ per_minute: null, per_hour: null }),
  /** Policy decision path queried for this route. */
  policy: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/).default('gateway/authz/decision'),
  /** Upstream timeout (connect + response headers). */
  timeout_ms: z.number().int().min(1).max(600_000).default(30_000),
  /** Per dependency: `closed` refuses with 503 when it is down, `open` lets the request through marked degraded. */
  failure: z
    .strictObject({
      policy: FailureModeSchema.default('closed'),
      rate_limit: FailureModeSchema.default('open'),
      budget: FailureModeSchema.default('closed'),
    })
    .default({ policy: 'closed', rate_limit: 'open', budget: 'closed' }),
  /** Origins allowed by CORS; empty = no CORS headers; `*` = any origin (never with credentials). */
  cors_origins: z.array(z.string().max(256)).max(64).default([]),
  websocket: z.boolean().default(false),
});

/**
 * One route as an operator writes it (admin API, route file) and as it is stored per version:
 * the fields of RouteFieldsSchema plus the checks that span fields. (Zod refuses `.pick`,
 * `.partial`, `.extend` on a refined object: derive such schemas from RouteFieldsSchema.)
 */
export const RouteSpecSchema = RouteFieldsSchema.superRefine((route, ctx) => {
  // Lists that are sets: a repeated entry is a typo, and would make versions differ only in order.
  for (const field of ['hosts', 'methods', 'stages', 'cors_origins'] as const) {
    const seen = new Set<string>();
    route[field].forEach((value, i) => {
      if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [field, i], message: `${value} is listed twice` });
      seen.add(value);
    });
  }
  // A prefix the matched path cannot start with would forward every request unchanged, silently.
  if (route.strip_prefix !== null && !startsWithSegments(route.path, route.strip_prefix)) {
    ctx.addIssue({ code: 'custom', path: ['strip_prefix'], message: 'must be the leading literal segments of path' });
  }
  const names = [...route.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
  const seenNames = new Set<string>();
  for (const name of names) {
    // The matcher builds params as a plain object: a `__proto__` key would set its prototype.
    if (name === '__proto__') ctx.addIssue({ code: 'custom', path: ['path'], message: '__proto__ is not a usable parameter name' });
    if (seenNames.has(name)) ctx.addIssue({ code: 'custom', path: ['path'], message: `parameter {${name}} appears twice` });
    seenNames.add(name);
  }
  if (route.websocket && route.methods.length > 0 && !route.methods.includes('GET')) {
    ctx.addIssue({ code: 'custom', path: ['methods'], message: 'a WebSocket route must allow GET (the upgrade request)' });
  }
});

/** Whether every segment of `prefix` equals the literal segment of `path` at the same place. */
function startsWithSegments(path: string, prefix: string): boolean {
  const want = prefix.replace(/\/+$/, '').split('/');
  const have = path.split('/');
  if (want.length > have.length) return false;
  return want.every((seg, i) => seg === have[i] && !seg.startsWith('{') && seg !== '*');
}

/** A route as stored and served: every default filled in. */
export type Route = z.output<typeof RouteSpecSchema>;
/** A route as written by an operator: defaults may be left out. */
export type RouteSpec = z.input<typeof RouteSpecSchema>;

/** The result of matching one request against the live route table. */
export type RouteMatch =
  | { readonly kind: 'route'; readonly route: Route; readonly version: number; readonly params: Readonly<Record<string, string>> }
  /** The path and host match some route, but none for this method (405 with Allow). */
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'none' };
