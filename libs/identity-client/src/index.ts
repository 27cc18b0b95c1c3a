export { createIdentityClient } from './client';
export type { IdentityClient, IdentityClientOptions, IdentityClientStats } from './client';
export { IdentityUnavailableError } from './errors';
export type { IdentityUnavailableCode } from './errors';
export { bearerToken } from './bearer';
export { tokenHash } from './token-hash';
export { revocationChannel, REVOCATION_CHANNEL } from '@cloud-stack/contracts';
export type { IntrospectionResponse, ActiveIntrospection, RevocationMessage } from '@cloud-stack/contracts';
