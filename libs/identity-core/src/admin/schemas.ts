import { z } from 'zod';
import { RoleSchema } from '@cloud-stack/contracts';
import { GRANT_TYPES } from '../directory/clients';

const domain = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name');
const password = z.string().min(8).max(256);
const agentId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

export const TenantCreateSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
  name: z.string().min(1).max(200),
  allowed_email_domains: z.array(domain).max(50).optional(),
});

export const TenantPatchSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  allowed_email_domains: z.array(domain).max(50).optional(),
});

export const UserCreateSchema = z.strictObject({
  email: z.email().max(254),
  password,
  display_name: z.string().max(200).nullable().optional(),
  roles: z.array(RoleSchema).max(10).optional(),
  is_governor: z.boolean().optional(),
  trial_mode: z.boolean().optional(),
  agent_id: agentId.nullable().optional(),
});

export const UserPatchSchema = z.strictObject({
  email: z.email().max(254).optional(),
  password: password.optional(),
  display_name: z.string().max(200).nullable().optional(),
  is_governor: z.boolean().optional(),
  trial_mode: z.boolean().optional(),
  agent_id: agentId.nullable().optional(),
  disabled: z.boolean().optional(),
});

export const RolesSchema = z.strictObject({ roles: z.array(RoleSchema).max(10) });

export const ClientCreateSchema = z.strictObject({
  client_id: z.string().regex(/^[A-Za-z0-9._-]{3,128}$/).optional(),
  name: z.string().min(1).max(200),
  client_type: z.enum(['confidential', 'public']),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).max(50).optional(),
  roles: z.array(RoleSchema).max(10).optional(),
  trusted: z.boolean().optional(),
  redirect_uris: z.array(z.string().max(2000)).max(20).optional(),
});
