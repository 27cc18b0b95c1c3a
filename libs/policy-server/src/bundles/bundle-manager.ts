import { resolve } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '@cloud-stack/service-kit';
import type { BundleConfig, OpaConfig } from '../config/opa-config';
import { OpaHttpError, type OpaErrorDetail } from '../opa/errors';
import type { ActiveBundle } from '../store/bundle-scope';
import type { StoredModule } from '../store/engine';
import type { PolicyStore } from '../store/policy-store';
import { BundleError, readBundleArchive, readBundleDirectory, type BundleFiles } from './archive';
import { parseBundle, rootsOverlap, type Bundle } from './bundle';
import { DownloadError, ServiceClient } from './download';
import { BundlePersistence } from './persist';

/** One bundle's entry in GET /v1/status (OPA's bundle status shape). */
export interface BundleStatus {
  readonly name: string;
  readonly active_revision?: string;
  readonly last_successful_activation?: string;
  readonly last_successful_download?: string;
  readonly last_successful_request?: string;
  readonly last_request?: string;
  readonly type: 'snapshot';
  readonly size?: number;
  readonly http_code?: number;
  readonly code?: 'bundle_error';
  readonly message?: string;
  readonly errors?: readonly string[];
}

/** Where a bundle comes from: a bundle service (OPA's `bundles` config) or a local file/directory (`--bundle PATH`). */
type Source = { readonly kind: 'service'; readonly config: BundleConfig; readonly client: ServiceClient } | { readonly kind: 'local'; readonly path: string };

interface State {
  status: BundleStatus;
  etag?: string;
  retry: number;
  timer?: NodeJS.Timeout;
  /** Serialises polls of one bundle (a manual poll while the timer's poll runs). */
  running?: Promise<BundleStatus>;
}

interface Active {
  readonly bundle: Bundle;
}

export interface BundleManagerOptions {
  readonly config: OpaConfig;
  /** Local bundles, tarballs or directories, named by their path as `opa run --bundle` names them. */
  readonly localBundles?: readonly string[];
  readonly store: PolicyStore;
  readonly logger: Logger;
  /** Off in tests that drive `poll()` themselves. */
  readonly polling?: boolean;
}

const MIN_RETRY_DELAY_MS = 100;

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function segments(root: string): string[] {
  return root === '' ? [] : root.split('/');
}

function getPath(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const k of path) {
    if (!isObj(node)) return undefined;
    node = node[k];
  }
  return node;
}

/** Copy-on-write delete/set along `path`, leaving the serving data untouched. */
function withPath(data: Json, path: readonly string[], value: unknown): Json {
  if (path.length === 0) return isObj(value) ? value : {};
  const [head, ...rest] = path as [string, ...string[]];
  if (value === undefined && !(head in data)) return data;
  const out: Json = { ...data };
  if (rest.length === 0) {
    if (value === undefined) delete out[head];
    else out[head] = value;
    return out;
  }
  const child = isObj(data[head]) ? data[head] : {};
  out[head] = withPath(child, rest, value);
  return out;
}

/**
 * OPA's bundle plugin: downloads every configured bundle, verifies and activates them, and keeps
 * the last good set serving when a download or an activation fails. Activation is all or
 * nothing: the candidate set (the active bundles with the new one in place) must have disjoint
 * roots and compile as a whole before the store swaps to it.
 */
export class BundleManager {
  private readonly sources = new Map<string, Source>();
  private readonly states = new Map<string, State>();
  private readonly active = new Map<string, Active>();
  private readonly persistence: BundlePersistence;
  private closed = false;

  constructor(private readonly options: BundleManagerOptions) {
    const { config } = options;
    this.persistence = new BundlePersistence(resolve(config.persistence_directory));
    for (const b of Object.values(config.bundles)) {
      this.sources.set(b.name, { kind: 'service', config: b, client: new ServiceClient(config.services[b.service]!) });
    }
    for (const path of options.localBundles ?? []) this.sources.set(path, { kind: 'local', path });
    for (const name of this.sources.keys()) this.states.set(name, { status: { name, type: 'snapshot' }, retry: 0 });
  }

  names(): string[] {
    return [...this.sources.keys()];
  }

  /** Every configured bundle activated at least once (OPA's `/health?bundles`). */
  allActivated(): boolean {
    return [...this.sources.keys()].every((n) => this.active.has(n));
  }

  status(): Record<string, BundleStatus> {
    return Object.fromEntries([...this.states].map(([n, s]) => [n, s.status]));
  }

  /**
   * Activates persisted bundles first (a restart serves at once, bundle server reachable or
   * not), then makes one download attempt per bundle, then polls.
   */
  async start(): Promise<void> {
    for (const [name, source] of this.sources) {
      if (source.kind === 'service' && source.config.persist) await this.loadPersisted(name, source.config);
    }
    await Promise.all(this.names().map((n) => this.poll(n)));
    if (this.options.polling !== false) for (const n of this.names()) this.schedule(n);
  }

  close(): void {
    this.closed = true;
    for (const s of this.states.values()) if (s.timer) clearTimeout(s.timer);
  }

  /** One download-and-activate step for `name` (the poller's step; tests call it directly). */
  poll(name: string): Promise<BundleStatus> {
    const state = this.states.get(name);
    if (!state) throw new TypeError(`no bundle named ${name}`);
    const run = (state.running ?? Promise.resolve()).then(() => this.pollOnce(name, state));
    state.running = run.finally(() => {
      if (state.running === run) state.running = undefined;
    });
    return run;
  }

  private schedule(name: string): void {
    const state = this.states.get(name)!;
    const source = this.sources.get(name)!;
    if (this.closed || source.kind !== 'service') return;
    const { min_delay_seconds: min, max_delay_seconds: max } = source.config.polling;
    // OPA: a random delay between min and max after a success; after a failure an exponential
    // backoff from 100 ms, capped at max_delay_seconds.
    const ms =
      state.retry === 0
        ? (min + Math.random() * (max - min)) * 1000
        : Math.min(max * 1000, MIN_RETRY_DELAY_MS * 2 ** (state.retry - 1) * (0.5 + Math.random()));
    state.timer = setTimeout(() => {
      void this.poll(name).finally(() => this.schedule(name));
    }, ms);
    state.timer.unref();
  }

  private async loadPersisted(name: string, config: BundleConfig): Promise<void> {
    const state = this.states.get(name)!;
    try {
      const persisted = await this.persistence.load(name);
      if (!persisted) return;
      const bundle = parseBundle(await readBundleArchive(persisted.archive, config.size_limit_bytes), this.verification(config));
      this.activate(name, bundle);
      state.etag = persisted.etag;
      state.status = { ...state.status, active_revision: bundle.manifest.revision, last_successful_activation: new Date().toISOString() };
      this.options.logger.info({ bundle: name, revision: bundle.manifest.revision }, 'persisted bundle activated');
    } catch (err) {
      this.options.logger.warn({ bundle: name, err: err instanceof Error ? err.message : String(err) }, 'persisted bundle not usable; waiting for a download');
    }
  }

  private verification(config: BundleConfig) {
    return { keys: this.options.config.keys, signing: config.signing };
  }

  private async pollOnce(name: string, state: State): Promise<BundleStatus> {
    const source = this.sources.get(name)!;
    const now = new Date().toISOString();
    state.status = { ...state.status, last_request: now };
    let files: BundleFiles;
    let archive: Buffer | undefined;
    let etag: string | undefined;
    try {
      if (source.kind === 'local') {
        const path = resolve(source.path);
        files = (await stat(path)).isDirectory() ? await readBundleDirectory(path) : await readBundleArchive(await readFile(path));
      } else {
        const result = await source.client.download(source.config.resource, state.etag, source.config.size_limit_bytes);
        state.status = { ...state.status, last_successful_request: now, http_code: result.httpCode };
        if (result.status === 'not_modified') {
          state.retry = 0;
          return state.status;
        }
        state.status = { ...state.status, last_successful_download: now, size: result.body.length };
        archive = result.body;
        etag = result.etag;
        files = await readBundleArchive(archive, source.config.size_limit_bytes);
      }
      const bundle = parseBundle(files, source.kind === 'service' ? this.verification(source.config) : { keys: this.options.config.keys });
      this.activate(name, bundle);
      state.etag = etag;
      state.retry = 0;
      state.status = {
        name,
        type: 'snapshot',
        active_revision: bundle.manifest.revision,
        last_successful_activation: new Date().toISOString(),
        last_successful_download: state.status.last_successful_download,
        last_successful_request: state.status.last_successful_request,
        last_request: now,
        ...(state.status.http_code ? { http_code: state.status.http_code } : {}),
        ...(state.status.size !== undefined ? { size: state.status.size } : {}),
      };
      this.options.logger.info({ bundle: name, revision: bundle.manifest.revision }, 'bundle loaded and activated successfully');
      if (source.kind === 'service' && source.config.persist && archive) {
        await this.persistence.save(name, { archive, etag }).catch((err: unknown) => {
          this.options.logger.error({ bundle: name, err }, 'cannot persist the bundle; a restart will have to download it');
        });
      }
    } catch (err) {
      state.retry++;
      const { message, errors } = describe(err);
      state.status = {
        ...state.status,
        code: 'bundle_error',
        message,
        errors,
        ...(err instanceof DownloadError && err.httpCode ? { http_code: err.httpCode } : {}),
      };
      this.options.logger.error({ bundle: name, errors }, `bundle ${name} failed, ${this.active.has(name) ? `still serving revision ${JSON.stringify(state.status.active_revision)}` : 'not activated'}: ${message}`);
    }
    return state.status;
  }

  /** Swaps the store to the active bundles with `bundle` as `name`, or throws and changes nothing. */
  private activate(name: string, bundle: Bundle): void {
    const candidates = new Map(this.active);
    candidates.set(name, { bundle });
    const overlapping = new Set<string>();
    const entries = [...candidates];
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const [a, x] = entries[i]!;
        const [b, y] = entries[j]!;
        if (x.bundle.manifest.roots.some((r) => y.bundle.manifest.roots.some((s) => rootsOverlap(r, s)))) overlapping.add(a).add(b);
      }
    }
    if (overlapping.size > 0) throw new BundleError(`detected overlapping roots in bundle manifest with: [${[...overlapping].sort().join(' ')}]`);

    const { store } = this.options;
    // Data outside every bundle root (written through the Data API) survives; inside, the bundles own it.
    let data = store.current().data;
    for (const root of store.bundleRoots()) data = withPath(data, root, undefined);
    const modules: StoredModule[] = [];
    const active: ActiveBundle[] = [];
    for (const [bundleName, { bundle: b }] of candidates) {
      const roots = b.manifest.roots.map(segments);
      active.push({ name: bundleName, revision: b.manifest.revision, roots });
      for (const path of roots) data = withPath(data, path, getPath(b.data, path));
      for (const m of b.modules) modules.push({ id: `${bundleName}/${m.path}`, source: m.source, origin: 'bundle', regoVersion: m.regoVersion });
    }
    store.activateBundles(modules, data, active);
    this.active.set(name, { bundle });
  }
}

function describe(err: unknown): { message: string; errors: string[] } {
  if (err instanceof OpaHttpError) {
    const errors = (err.errors ?? []).map((e: OpaErrorDetail) => (e.location ? `${e.location.file}:${e.location.row}: ${e.code}: ${e.message}` : `${e.code}: ${e.message}`));
    return { message: `bundle activation failed: ${err.message}`, errors };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message, errors: [message] };
}
