export { createAdminRouter, READ_PERMISSION, ADMIN_PERMISSION } from './http/router';
export type { AdminDeps } from './http/router';
export type { Subject, AdminAction } from './http/audit';
export { createRouteDiscovery } from './discovery/discover';
export type { RouteDiscovery, DiscoveryOptions, DiscoveryResult, BackendReport, Proposal } from './discovery/discover';
export { readOpenApi } from './discovery/openapi';
export type { ApiPath } from './discovery/openapi';
export { scheduleRouteDiscovery, DISCOVERY_QUEUE } from './discovery/schedule';
export type { DiscoverySchedule, DiscoveryScheduleOptions } from './discovery/schedule';
