import {
  compileRoutes,
  diffRoutes,
  RouteSpecSchema,
  summarizeDiff,
  type HttpMethod,
  type Route,
  type RouteStore,
  type RouteVersion,
} from '@cloud-stack/gateway-routing';
import type { Logger } from '@cloud-stack/service-kit';
import { readOpenApi } from './openapi';

export interface BackendReport {
  readonly product: string | null;
  readonly url: string;
  readonly ok: boolean;
  readonly error?: string;
  /** Operations (path × method) the document lists. */
  readonly operations: number;
  /** Paths left out because the gateway cannot express them as a route (with why). */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

export interface DiscoveryResult {
  readonly live_version: number | null;
  /** The draft holding the proposal; null when nothing is missing. */
  readonly proposal: RouteVersion | null;
  /** False when an identical proposal was already waiting as a draft. */
  readonly created: boolean;
  readonly added: readonly Route[];
  readonly backends: readonly BackendReport[];
}

export interface Proposal extends RouteVersion {
  readonly added: readonly Route[];
  readonly removed: readonly Route[];
  readonly changed: number;
}

/** Proposes, as a draft version, the routes the live version lacks for what its backends publish. */
export interface RouteDiscovery {
  run(): Promise<DiscoveryResult>;
  /** Discovery drafts not activated yet, newest first, each with its changes against its parent. */
  proposals(): Promise<Proposal[]>;
}

export interface DiscoveryOptions {
  readonly store: RouteStore;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** Per backend document (default 5 s). */
  readonly timeoutMs?: number;
  /** Recorded as the drafts' creator (default `discovery`). */
  readonly createdBy?: string;
  /** Documents larger than this are refused (default 2 MiB). */
  readonly maxBytes?: number;
}

interface Backend {
  readonly product: string | null;
  /** The product's route the proposals copy their settings from. */
  readonly template: Route;
}

const PARAM = /\{([^}]*)\}/g;

/** The route of a product used as the template of its new routes: the most common upstream, then the smallest id. */
function backendsOf(routes: readonly Route[]): Backend[] {
  const groups = new Map<string, Route[]>();
  for (const r of routes) {
    const key = r.product ?? `upstream:${r.upstream}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const count = new Map<string, number>();
    for (const r of group) count.set(r.upstream, (count.get(r.upstream) ?? 0) + 1);
    const upstream = [...count.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    const template = group.filter((r) => r.upstream === upstream).sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
    return { product: template.product, template };
  });
}

/**
 * A backend's document sits at `openapi.json` under its upstream URL, and its paths are relative
 * to that URL: what the gateway forwards after removing the route's strip_prefix.
 */
function documentUrl(upstream: string): string {
  return `${upstream.replace(/\/+$/, '')}/openapi.json`;
}

/** A host name a request to `template` could carry: its first host (a wildcard's with a label), or none. */
function sampleHost(template: Route): string {
  const host = template.hosts[0];
  if (!host) return '';
  return host.startsWith('*.') ? `discovery${host.substring(1)}` : host;
}

function slug(path: string): string {
  const s = path
    .replace(PARAM, '$1')
    .split('/')
    .filter(Boolean)
    .join('.')
    .replace(/[^A-Za-z0-9._:-]/g, '-');
  return s || 'root';
}

export function createRouteDiscovery(options: DiscoveryOptions): RouteDiscovery {
  const { store, logger } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;

  async function fetchDocument(url: string): Promise<unknown> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new Error(`document larger than ${maxBytes} bytes`);
    const text = await res.text();
    if (Buffer.byteLength(text) > maxBytes) throw new Error(`document larger than ${maxBytes} bytes`);
    return JSON.parse(text);
  }

  async function propose(live: readonly Route[]): Promise<{ added: Route[]; backends: BackendReport[] }> {
    const matcher = compileRoutes(live);
    const ids = new Set(live.map((r) => r.id));
    const added: Route[] = [];
    const backends: BackendReport[] = [];
    for (const { product, template } of backendsOf(live)) {
      const url = documentUrl(template.upstream);
      const skipped: { path: string; reason: string }[] = [];
      let operations = 0;
      try {
        const paths = readOpenApi(await fetchDocument(url));
        for (const api of paths) {
          operations += api.methods.length;
          const path = `${(template.strip_prefix ?? '').replace(/\/+$/, '')}${api.path}`;
          // A parameter value the matcher takes for a parameter and never for a literal segment.
          const sample = path.replace(PARAM, (_m, name: string) => encodeURIComponent(`{${name}}`));
          const missing = api.methods.filter((m) => matcher.match(m, sampleHost(template), sample).kind !== 'route');
          if (!missing.length) continue;
          const base = `${product ?? 'discovered'}.${slug(api.path)}`.slice(0, 120);
          let id = base;
          for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
          const parsed = RouteSpecSchema.safeParse({
            ...template,
            id,
            path,
            methods: missing satisfies HttpMethod[],
            permission: api.permission ?? template.permission,
            cost: 0,
            websocket: false,
          });
          if (!parsed.success) {
            skipped.push({ path: api.path, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
            continue;
          }
          ids.add(id);
          added.push(parsed.data);
        }
        backends.push({ product, url, ok: true, operations, skipped });
      } catch (err) {
        logger.warn({ url, err: (err as Error).message }, 'route discovery: backend document unavailable');
        backends.push({ product, url, ok: false, error: (err as Error).message, operations, skipped });
      }
    }
    return { added, backends };
  }

  const sameRoutes = (a: readonly Route[], b: readonly Route[]) => {
    const d = diffRoutes(a, b);
    return !d.added.length && !d.removed.length && !d.changed.length;
  };

  const discovery: RouteDiscovery = {
    async run() {
      const live = await store.getActive();
      if (!live) return { live_version: null, proposal: null, created: false, added: [], backends: [] };
      const { added, backends } = await propose(live.routes);
      if (!added.length) return { live_version: live.version, proposal: null, created: false, added, backends };

      // An hourly job must not pile up identical drafts while the last one waits for review.
      for (const waiting of await discovery.proposals()) {
        if (waiting.parent_version === live.version && !waiting.removed.length && !waiting.changed && sameRoutes(waiting.added, added)) {
          return { live_version: live.version, proposal: waiting, created: false, added, backends };
        }
      }
      const summary = summarizeDiff({ added, removed: [], changed: [] });
      const draft = await store.createDraft({
        from: live.version,
        routes: [...live.routes, ...added],
        source: 'discovery',
        note: `discovery against version ${live.version}: ${summary}`,
        createdBy: options.createdBy ?? 'discovery',
      });
      logger.info({ version: draft.version, added: added.length }, 'route discovery: proposal drafted');
      const { routes: _routes, ...proposal } = draft;
      return { live_version: live.version, proposal, created: true, added, backends };
    },

    async proposals() {
      const drafts = await store.listVersions({ status: 'draft', source: 'discovery' });
      const out: Proposal[] = [];
      for (const draft of drafts) {
        const routes = (await store.getVersion(draft.version)).routes;
        const parent = draft.parent_version === null ? [] : (await store.getVersion(draft.parent_version).catch(() => null))?.routes ?? [];
        const d = diffRoutes(parent, routes);
        out.push({ ...draft, added: d.added, removed: d.removed, changed: d.changed.length });
      }
      return out;
    },
  };
  return discovery;
}
