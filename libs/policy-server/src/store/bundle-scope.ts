import { OpaHttpError } from '../opa/errors';
import { pathEscape } from '../go-url';

/** An activated bundle as the serving snapshot records it. */
export interface ActiveBundle {
  /** The configured name (OPA config `bundles.<name>`; a local bundle's path). */
  readonly name: string;
  /** The manifest's revision ('' when it names none). */
  readonly revision: string;
  /** Each root as path segments below data; [] owns the whole tree (no roots, or root ""). */
  readonly roots: readonly (readonly string[])[];
}


/**
 * OPA's checkPathScope (v1/server/server.go): a path a bundle owns — a root, under one or above
 * one — may not be written through the REST API, nor the whole document while any bundle is
 * active. The Data API checks the written path, the Policy API the module's package
 * (checkPolicyPackageScope). 400 `invalid_parameter` with OPA's messages.
 */
export function checkPathScope(path: readonly string[], bundles: readonly ActiveBundle[]): void {
  if (bundles.length === 0) return;
  if (path.length === 0) throw OpaHttpError.badRequest("can't write to document root with bundle roots configured");
  const spath = path.map(pathEscape).join('/');
  for (const { name, roots } of bundles) {
    for (const root of roots) {
      if (root.length === 0) throw OpaHttpError.badRequest(`all paths owned by bundle ${JSON.stringify(name)}`);
      // isPathOwned: one is a prefix of the other.
      let owned = true;
      for (let i = 0; i < Math.min(path.length, root.length) && owned; i++) owned = path[i] === root[i];
      if (owned) throw OpaHttpError.badRequest(`path ${spath} is owned by bundle ${JSON.stringify(name)}`);
    }
  }
}
