export { createAuditProducer, DEFAULT_AUDIT_JOB_OPTIONS } from './producer';
export type { AuditProducer, AuditProducerOptions, AuditProducerStats } from './producer';
export { cheapReject } from './validate';
