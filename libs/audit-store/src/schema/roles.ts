/** Database roles of the audit store. Roles are cluster-wide; migrations create them if missing. */
export interface AuditRoles {
  /** May insert events, dead letters and partitions; reads nothing. */
  readonly writer: string;
  /** Sees the rows of `current_setting('app.tenant_id')` only (row-level security). */
  readonly reader: string;
  /** Sees every row. */
  readonly platformAuditor: string;
}

export const AUDIT_ROLES: AuditRoles = {
  writer: 'audit_writer',
  reader: 'audit_reader',
  platformAuditor: 'audit_platform_auditor',
};
