import { z } from 'zod';
import { RoleSchema } from './roles';

/** Claims of an access token issued by identity (an ES256 JWT). */
export const AccessTokenClaimsSchema = z.object({
  iss: z.string().min(1),
  aud: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  sub: z.string().min(1),
  exp: z.number().int(),
  iat: z.number().int(),
  jti: z.string().min(1),
  client_id: z.string().min(1),
  scope: z.string(),
  tenant_id: z.string().min(1),
  roles: z.array(RoleSchema),
  is_governor: z.boolean(),
  trial_mode: z.boolean(),
  agent_id: z.string().min(1).nullable(),
  email: z.string().nullable(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaimsSchema>;

/** RFC 7662 §2.2 response of an active token, plus the platform's identity claims. */
export const ActiveIntrospectionSchema = AccessTokenClaimsSchema.partial()
  .extend({
    active: z.literal(true),
    token_type: z.string().optional(),
    username: z.string().optional(),
  })
  .loose();

export const InactiveIntrospectionSchema = z.object({ active: z.literal(false) });

export const IntrospectionResponseSchema = z.discriminatedUnion('active', [
  ActiveIntrospectionSchema,
  InactiveIntrospectionSchema,
]);
export type IntrospectionResponse = z.infer<typeof IntrospectionResponseSchema>;
export type ActiveIntrospection = z.infer<typeof ActiveIntrospectionSchema>;

/**
 * What identity publishes on Redis when a token is revoked, so caches can evict it at once: one
 * access token (`jti`, `exp`, and `token_sha256` when known), or every access token of a subject
 * issued before `not_before` (`sub`, `not_before`, epoch seconds: compare with the token's `iat`).
 */
export const RevocationMessageSchema = z.object({
  jti: z.string().optional(),
  token_sha256: z.string().optional(),
  family_id: z.string().optional(),
  exp: z.number().int().optional(),
  sub: z.string().optional(),
  not_before: z.number().int().optional(),
});
export type RevocationMessage = z.infer<typeof RevocationMessageSchema>;
/** The revocation channel's name without identity's REDIS_PREFIX; subscribe to `revocationChannel(prefix)`. */
export const REVOCATION_CHANNEL = 'identity:revocations';

/**
 * The full Redis pub/sub channel identity publishes RevocationMessages on: its REDIS_PREFIX
 * (default '') followed by the channel name. Publisher and subscribers both build it here.
 */
export function revocationChannel(prefix: string): string {
  return `${prefix}${REVOCATION_CHANNEL}`;
}
