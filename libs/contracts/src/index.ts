export { uuidv7, uuidv7Time, UUID_PATTERN } from './ids';
export { ROLE_HIERARCHY, STANDALONE_ROLES, ROLES, RoleSchema, impliedRoles, roleIncludes } from './roles';
export type { Role } from './roles';
export {
  AccessTokenClaimsSchema,
  ActiveIntrospectionSchema,
  InactiveIntrospectionSchema,
  IntrospectionResponseSchema,
  RevocationMessageSchema,
  REVOCATION_CHANNEL,
  revocationChannel,
} from './tokens';
export type { AccessTokenClaims, ActiveIntrospection, IntrospectionResponse, RevocationMessage } from './tokens';
export { PolicyInputSchema, PolicyResultSchema, POLICY_DECISION_PATH } from './policy';
export type { PolicyInput, PolicyResult } from './policy';
export {
  AUDIT_QUEUE,
  AUDIT_QUEUE_PREFIX_VARIABLE,
  AUDIT_QUEUE_PREFIX_DEFAULT,
  RETIRED_AUDIT_QUEUE_PREFIX_VARIABLE,
  auditQueueName,
  AUDIT_BATCH_MAX_LINKS,
  AUDIT_CATEGORIES,
  AUDIT_DETAILS_MAX_BYTES,
  AuditCategorySchema,
  AuditDetailsSchema,
  AuditEventSchema,
  AuditBatchSchema,
} from './audit';
export type { AuditCategory, AuditEvent, AuditEventInput, AuditBatch } from './audit';
export { AUDIT_BATCH_MAX_INFLATED_BYTES, auditBatchEvents, deflateAuditEvents } from './audit-batch';
export { buildAuditEvent } from './audit-event';
export type { AuditFacts } from './audit-event';
export { ProblemSchema, PROBLEM_CONTENT_TYPE } from './problem';
export type { Problem } from './problem';
