import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as yaml from 'js-yaml';
import { REPO_ROOT } from '@cloud-stack/test-kit';

/** The upstreams the suite starts: a product API, the agent backend and its sandbox twin. */
export interface Upstreams<T = string> {
  readonly product: T;
  readonly agents: T;
  readonly sandbox: T;
}

interface RouteFile {
  products: Array<{ name: string; upstream: string; sandbox_upstream?: string; routes: unknown[] }>;
}

/** Where infra/gateway/demo-routes.yaml points (tools/dev's demo upstreams and the audit-writer on their fixed ports). */
const DEMO_PORTS: Record<string, keyof Upstreams | 'audit'> = {
  '9101': 'product', // customer portal
  '9102': 'product', // platform portal
  '9103': 'agents',
  '9104': 'sandbox',
  '9105': 'product', // forge, routed by host
  '8010': 'audit',
};

/** Route ids the suite adds to the demo's table. */
export const E2E_ROUTES = {
  /** `agent:create` without the governor requirement: a role alone decides. */
  drafts: 'e2e.agent-drafts',
  /** Passes with `X-Policy-Enforcement: degraded` when the policy cannot be reached. */
  failOpen: 'e2e.status',
} as const;

/**
 * The demo's route table (infra/gateway/demo-routes.yaml, as `npm start` applies it) moved onto
 * the suite's upstreams and audit-writer, plus two routes the demo lacks: one that needs only
 * `agent:create`, and one that fails open when the policy is down.
 */
export function e2eRoutes(upstreams: Upstreams, auditWriterUrl: string): RouteFile {
  const demo = yaml.load(readFileSync(resolve(REPO_ROOT, 'infra/gateway/demo-routes.yaml'), 'utf8')) as RouteFile;
  const targets = { ...upstreams, audit: auditWriterUrl };
  const move = (url: string): string => {
    const parsed = new URL(url);
    const target = DEMO_PORTS[parsed.port];
    if (!target) throw new Error(`demo-routes.yaml names an upstream the e2e suite does not play: ${url}`);
    return `${targets[target]}${parsed.pathname.replace(/\/$/, '')}`;
  };
  const products = demo.products.map((p) => ({
    ...p,
    upstream: move(p.upstream),
    ...(p.sandbox_upstream ? { sandbox_upstream: move(p.sandbox_upstream) } : {}),
  }));
  products.push({
    name: 'e2e',
    upstream: upstreams.agents,
    routes: [
      { id: E2E_ROUTES.drafts, path: '/api/v1/agent-drafts', methods: ['POST'], permission: 'agent:create' },
      { id: E2E_ROUTES.failOpen, path: '/api/v1/status', methods: ['GET'], permission: 'agent:read', failure: { policy: 'open' } },
    ],
  });
  return { products };
}
