import { z } from 'zod';
import { UUID_PATTERN } from './ids';

export const AUDIT_QUEUE = 'audit';

/**
 * The one environment variable naming the BullMQ key prefix of the audit queue, read by every
 * producer and by the audit-writer: two names for one setting let an operator put producers and
 * the consumer on different queues without any error.
 */
export const AUDIT_QUEUE_PREFIX_VARIABLE = 'AUDIT_QUEUE_PREFIX';
/** BullMQ's own default prefix. */
export const AUDIT_QUEUE_PREFIX_DEFAULT = 'bull';
/** The audit-writer's former name for the prefix; services refuse it rather than ignore it. */
export const RETIRED_AUDIT_QUEUE_PREFIX_VARIABLE = 'QUEUE_PREFIX';

/** The queue's full name as BullMQ keys it in Redis (`bull:audit`); what services log at start. */
export function auditQueueName(prefix: string, queue: string = AUDIT_QUEUE): string {
  return `${prefix}:${queue}`;
}

export const AUDIT_CATEGORIES = ['request', 'policy_decision', 'admin', 'governor'] as const;
export const AuditCategorySchema = z.enum(AUDIT_CATEGORIES);
export type AuditCategory = z.infer<typeof AuditCategorySchema>;

const id = z.string().max(200);
const uuid = z.string().regex(UUID_PATTERN, 'must be a UUID');

/** Upper bound of an event's `details`, as UTF-8 bytes of its JSON text. */
export const AUDIT_DETAILS_MAX_BYTES = 64 * 1024;

function jsonBytes(value: unknown): number {
  try {
    return new TextEncoder().encode(JSON.stringify(value)).length;
  } catch {
    return Number.POSITIVE_INFINITY; // cycles, BigInt: not JSON
  }
}

/** Producer-specific structured data (e.g. the policy sidecar's OPA decision log), bounded in size. */
export const AuditDetailsSchema = z
  .record(z.string(), z.unknown())
  .refine((d) => jsonBytes(d) <= AUDIT_DETAILS_MAX_BYTES, `must serialize to at most ${AUDIT_DETAILS_MAX_BYTES} bytes of JSON`);

/** One audited fact: a request through the gateway, a policy decision, an admin or governor action. */
export const AuditEventSchema = z.object({
  event_id: uuid,
  category: AuditCategorySchema.default('request'),
  occurred_at: z.iso.datetime({ offset: true }),
  correlation_id: id,
  causation_id: id.nullable(),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
  tenant_id: id.nullable(),
  user_id: id.nullable(),
  client_id: id.nullable(),
  agent_id: id.nullable(),
  route_id: id.nullable(),
  method: z.string().max(16),
  host: z.string().max(255),
  path: z.string().max(2048),
  status: z.number().int().min(0).max(999),
  duration_ms: z.number().nonnegative(),
  decision: z
    .object({
      allow: z.boolean(),
      reasons: z.array(z.string().max(500)).max(50),
      policy: z.string().max(200).nullable(),
      decision_id: id.nullable(),
    })
    .nullable(),
  sandbox_routed: z.boolean(),
  trial_mode: z.boolean(),
  upstream: z.string().max(2048).nullable(),
  ip: z.string().max(64).nullable(),
  user_agent: z.string().max(1024).nullable(),
  error_code: z.string().max(200).nullable(),
  // Optional (absent means null), so producers and fixtures written before it still type-check.
  details: AuditDetailsSchema.nullable().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
/** What producers hand over; `category` may be omitted for request events. */
export type AuditEventInput = z.input<typeof AuditEventSchema>;

/** Most trace links one batch carries (OpenTelemetry's default span link limit). */
export const AUDIT_BATCH_MAX_LINKS = 128;

/**
 * The payload of one BullMQ job on the `audit` queue; the job id is `batch_id`. The events come
 * either as `events` or as `events_deflated` (see audit-batch.ts): a large batch deflated costs
 * Redis a tenth of the work and memory (bench:policy, 500 decision-log events per job).
 */
export const AuditBatchSchema = z
  .object({
    batch_id: uuid,
    // Events are validated one by one by the writer, so one bad event cannot sink its batch.
    events: z.array(z.unknown()).min(1).optional(),
    events_deflated: z.string().min(1).optional(),
    /** W3C trace context of the span that emitted the first event: the write span's parent. */
    traceparent: z.string().optional(),
    /** Trace contexts of the spans that emitted the other events (distinct): links of the write span. */
    links: z.array(z.string()).max(AUDIT_BATCH_MAX_LINKS).optional(),
  })
  .refine((b) => (b.events === undefined) !== (b.events_deflated === undefined), { message: 'a batch carries either events or events_deflated' });
export type AuditBatch = z.infer<typeof AuditBatchSchema>;
