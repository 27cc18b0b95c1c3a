import { modulePackagePath, type RegoVersion } from '@cloud-stack/rego';
import type { Logger } from '@cloud-stack/service-kit';
import { engineErrorDetails, isEngineError, MSG_COMPILE_ERROR, OpaHttpError, type OpaErrorDetail } from '../opa/errors';
import { checkPathScope, type ActiveBundle } from './bundle-scope';
import { compileSet, type PolicySet, type StoredModule } from './engine';
import { DataFileError, loadDirectory } from './load-directory';

/** Everything one request needs, swapped as a whole: a request sees one revision from start to end. */
export interface PolicySnapshot {
  readonly revision: number;
  readonly set: PolicySet;
  readonly data: Record<string, unknown>;
  readonly modules: ReadonlyMap<string, StoredModule>;
  readonly activatedAt: string;
  /** The activated bundles this revision serves (none in policy-directory mode). */
  readonly bundles: readonly ActiveBundle[];
}

export interface LoadReport {
  readonly ok: boolean;
  readonly at: string;
  readonly revision: number;
  readonly message?: string;
  readonly errors?: readonly OpaErrorDetail[];
}

export interface StoreStatus {
  /** The directory loaded at least once (OPA: the bundle is activated). */
  readonly activated: boolean;
  readonly revision: number;
  /** The latest attempt to load the directory, successful or not. */
  readonly lastLoad?: LoadReport;
}

/**
 * Holds the serving policy set. Every change (directory reload, PUT, DELETE) is compiled off to
 * the side; only a set that compiled replaces the current one, by swapping one reference.
 */
export class PolicyStore {
  private snapshot: PolicySnapshot;
  private activated = false;
  private lastLoad: LoadReport | undefined;
  private loadSeq = 0;

  constructor(
    private readonly logger: Logger,
    private readonly dir?: string,
    private readonly builtins: readonly StoredModule[] = [],
    /** Rego version of modules that do not name their own (`v0`: the sidecar's --v0-compatible). */
    private readonly regoVersion: RegoVersion = 'v1',
  ) {
    const modules = new Map(builtins.map((m) => [m.id, m]));
    const initial = compileSet(modules.values(), regoVersion);
    if (!initial.ok) throw new Error(`the Rego engine cannot compile the built-in policy set: ${initial.message}`);
    this.snapshot = { revision: 0, set: initial.set, data: {}, modules, activatedAt: new Date().toISOString(), bundles: [] };
  }

  current(): PolicySnapshot {
    return this.snapshot;
  }

  status(): StoreStatus {
    return { activated: this.activated, revision: this.snapshot.revision, lastLoad: this.lastLoad };
  }

  /** (Re)loads the policy directory; a broken directory keeps the serving set and is reported. */
  async reload(): Promise<LoadReport> {
    if (!this.dir) throw new TypeError('this store has no policy directory');
    const seq = ++this.loadSeq;
    const at = new Date().toISOString();
    let loaded;
    try {
      loaded = await loadDirectory(this.dir);
    } catch (err) {
      const detail: OpaErrorDetail =
        err instanceof DataFileError
          ? { code: 'invalid_parameter', message: err.message, location: { file: err.file, row: 0, col: 0 } }
          : { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
      return this.report(seq, { ok: false, at, revision: this.snapshot.revision, message: `cannot read ${this.dir}`, errors: [detail] });
    }
    // A newer reload started while this one was reading: let it win.
    if (seq !== this.loadSeq) return { ok: true, at, revision: this.snapshot.revision, message: 'superseded' };
    const modules = new Map<string, StoredModule>();
    for (const m of loaded.modules) modules.set(m.id, { id: m.id, source: m.source, origin: 'file' });
    for (const m of this.snapshot.modules.values()) if (m.origin === 'api' && !modules.has(m.id)) modules.set(m.id, m);
    for (const m of this.builtins) if (!modules.has(m.id)) modules.set(m.id, m);
    const compiled = compileSet(modules.values(), this.regoVersion);
    if (!compiled.ok) {
      return this.report(seq, { ok: false, at, revision: this.snapshot.revision, message: MSG_COMPILE_ERROR, errors: compiled.errors });
    }
    this.swap(compiled.set, modules, loaded.data);
    this.activated = true;
    return this.report(seq, { ok: true, at, revision: this.snapshot.revision });
  }

  /**
   * PUT /v1/policies/{id}: compiles the set with the module added or replaced, then swaps. As
   * OPA, refused (400) when the module it replaces, or the new module's package, lies under an
   * active bundle's roots: bundles own their paths.
   */
  putPolicy(id: string, source: string): void {
    const { bundles } = this.snapshot;
    if (bundles.length > 0) {
      const existing = this.snapshot.modules.get(id);
      if (existing) checkPathScope(this.packageOf(existing), bundles);
      checkPathScope(this.packageOf({ id, source, origin: 'api' }), bundles);
    }
    const modules = new Map(this.snapshot.modules);
    modules.set(id, { id, source, origin: 'api' });
    this.commit(modules);
  }

  /** DELETE /v1/policies/{id}: the rest must still compile (other modules may import it). */
  deletePolicy(id: string): void {
    const existing = this.snapshot.modules.get(id);
    if (!existing) throw policyNotFound(id);
    if (this.snapshot.bundles.length > 0) checkPathScope(this.packageOf(existing), this.snapshot.bundles);
    const modules = new Map(this.snapshot.modules);
    modules.delete(id);
    this.commit(modules);
  }

  /**
   * PUT/PATCH/DELETE /v1/data: the next revision serves `data` (built by the caller from
   * current().data without mutating it) with the same policies. The swap is one assignment, so
   * the next decision sees the whole write or none of it.
   */
  replaceData(data: Record<string, unknown>): void {
    this.swap(this.snapshot.set, this.snapshot.modules, data);
  }

  /** Paths owned by activated bundles (each a list of segments; [] owns everything). */
  bundleRoots(): string[][] {
    return this.snapshot.bundles.flatMap((b) => b.roots.map((r) => [...r]));
  }

  /**
   * Bundle activation: `modules` replace every module of origin `bundle`, `data` becomes the data
   * document and `bundles` the active bundles (names, revisions, roots), in one swap once the
   * whole set compiled; otherwise throws (OpaHttpError with the compile errors) and nothing changes.
   */
  activateBundles(modules: readonly StoredModule[], data: Record<string, unknown>, bundles: readonly ActiveBundle[]): void {
    const next = new Map<string, StoredModule>(modules.map((m) => [m.id, m]));
    for (const m of this.snapshot.modules.values()) if (m.origin !== 'bundle' && !next.has(m.id)) next.set(m.id, m);
    const compiled = compileSet(next.values(), this.regoVersion);
    if (!compiled.ok) throw OpaHttpError.badRequest(MSG_COMPILE_ERROR, compiled.errors);
    this.swap(compiled.set, next, data, bundles.map((b) => ({ name: b.name, revision: b.revision, roots: b.roots.map((r) => [...r]) })));
    this.activated = true;
  }

  getPolicy(id: string): StoredModule {
    const m = this.snapshot.modules.get(id);
    if (!m) throw policyNotFound(id);
    return m;
  }

  listPolicies(): StoredModule[] {
    return [...this.snapshot.modules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private commit(modules: Map<string, StoredModule>): void {
    const compiled = compileSet(modules.values(), this.regoVersion);
    if (!compiled.ok) throw OpaHttpError.badRequest(MSG_COMPILE_ERROR, compiled.errors);
    this.swap(compiled.set, modules, this.snapshot.data);
  }

  private swap(set: PolicySet, modules: ReadonlyMap<string, StoredModule>, data: Record<string, unknown>, bundles = this.snapshot.bundles): void {
    this.snapshot = { revision: this.snapshot.revision + 1, set, data, modules, activatedAt: new Date().toISOString(), bundles };
  }

  /** A module's package as the engine parses it; a parse error is the 400 a compile would answer. */
  private packageOf(m: StoredModule): readonly string[] {
    try {
      return modulePackagePath(m.source, m.id, m.regoVersion ?? (m.origin === 'builtin' ? 'v1' : this.regoVersion));
    } catch (err) {
      if (!isEngineError(err)) throw err;
      throw OpaHttpError.badRequest(MSG_COMPILE_ERROR, engineErrorDetails(err));
    }
  }

  private report(seq: number, report: LoadReport): LoadReport {
    if (seq !== this.loadSeq) return report;
    this.lastLoad = report;
    if (report.ok) {
      this.logger.info({ dir: this.dir, revision: report.revision, modules: this.snapshot.modules.size }, 'policies loaded');
    } else {
      this.logger.error(
        { dir: this.dir, revision: report.revision, errors: report.errors },
        `policy load failed, still serving revision ${report.revision}: ${report.errors?.[0]?.message ?? report.message}`,
      );
    }
    return report;
  }
}

function policyNotFound(id: string): OpaHttpError {
  return OpaHttpError.notFound(`storage_not_found_error: policy id ${JSON.stringify(id)}`);
}
