import { z } from 'zod';
import { RoleSchema } from './roles';

/** The input document of `POST /v1/data/gateway/authz` — one per request. */
export const PolicyInputSchema = z.object({
  request: z.object({
    method: z.string(),
    host: z.string(),
    path: z.string(),
    correlation_id: z.string().optional(),
  }),
  route: z.object({
    id: z.string(),
    params: z.record(z.string(), z.string()),
    permission: z.string(),
    requires_governor: z.boolean(),
    cost: z.number().nonnegative(),
  }),
  subject: z.object({
    authenticated: z.boolean(),
    sub: z.string().nullable(),
    tenant_id: z.string().nullable(),
    client_id: z.string().nullable(),
    roles: z.array(RoleSchema),
    is_governor: z.boolean(),
    trial_mode: z.boolean(),
    agent_id: z.string().nullable(),
  }),
  budget: z
    .object({
      monthly_spend: z.number().nonnegative(),
      cap: z.number().nonnegative(),
    })
    .nullable(),
});
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

/** `data.gateway.authz.decision`: allow/deny with reasons, and obligations the gateway must honour. */
export const PolicyResultSchema = z.object({
  allow: z.boolean(),
  reasons: z.array(z.string()),
  obligations: z
    .object({
      route_to: z.enum(['primary', 'sandbox']).optional(),
    })
    .loose()
    .default({}),
  policy: z.string().optional(),
});
export type PolicyResult = z.infer<typeof PolicyResultSchema>;

export const POLICY_DECISION_PATH = ['gateway', 'authz', 'decision'] as const;
