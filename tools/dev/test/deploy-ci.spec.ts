/**
 * .github/workflows/ci.yml: valid for GitHub Actions (its own parser and schema), affected-only
 * lint/test/build on pull requests with PostgreSQL and Redis, affected-only image builds and
 * deploys on main.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { ROOT } from '../src/stack';

const FILE = '.github/workflows/ci.yml';
const content = readFileSync(join(ROOT, FILE), 'utf8');

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly services?: Record<string, { image: string; ports?: string[] }>;
  readonly strategy?: { matrix: Record<string, unknown> };
  readonly permissions?: Record<string, string>;
  readonly steps: Step[];
}
const workflow = load(content) as { on: Record<string, unknown>; env: Record<string, string>; jobs: Record<string, Job> };
const runs = (job: Job) => job.steps.flatMap((s) => (s.run ? [s.run] : []));

describe(FILE, () => {
  it("parses and converts without errors under GitHub's workflow schema", async () => {
    const parsed = parseWorkflow({ name: FILE, content }, new NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.map((j) => j.id.value).sort()).toEqual(['affected', 'deploy', 'plan']);
  });

  it('runs on pull requests and on pushes to main, with the Nx daemon and cloud off', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
    expect(workflow.env).toEqual({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true' });
  });

  it('lints, tests and builds only the affected projects on a pull request, against PostgreSQL and Redis', () => {
    const job = workflow.jobs.affected!;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(Object.values(job.services ?? {}).map((s) => [s.image.split(':')[0], s.ports])).toEqual([
      ['postgres', ['5432:5432']],
      ['redis', ['6379:6379']],
    ]);
    expect(job.steps.find((s) => s.uses?.startsWith('actions/checkout'))?.with).toMatchObject({ 'fetch-depth': 0 });
    const nx = runs(job).filter((r) => r.includes('nx '));
    expect(nx).toHaveLength(1);
    expect(nx[0]).toMatch(/^npx nx affected -t lint test build --base=origin\/\$\{\{ github\.base_ref \}\} --head=HEAD /);
    expect(runs(job)).toContain('npm ci');
  });

  it('on main, builds and deploys an image for each affected app only', () => {
    const plan = workflow.jobs.plan!;
    const deploy = workflow.jobs.deploy!;
    expect(plan.if).toBe("github.event_name == 'push'");
    expect(runs(plan).join('\n')).toMatch(/npx nx show projects --affected --base="\$BASE" --head=HEAD --json/);
    expect(deploy.needs).toBe('plan');
    expect(deploy.if).toContain("needs.plan.outputs.apps != '[]'");
    expect(deploy.strategy?.matrix.app).toBe('${{ fromJSON(needs.plan.outputs.apps) }}');
    const steps = runs(deploy).join('\n');
    expect(steps).toContain('docker build -f "infra/docker/${{ matrix.app }}.Dockerfile"');
    expect(steps).toContain('gcloud run deploy');
    // Workload Identity Federation, no key in a secret.
    expect(deploy.permissions).toMatchObject({ 'id-token': 'write' });
    expect(content).not.toMatch(/credentials_json|GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it('deploys exactly the apps that have a Dockerfile, and those are the apps', () => {
    const dockerfiles = readdirSync(join(ROOT, 'infra/docker')).filter((f) => f.endsWith('.Dockerfile')).map((f) => f.replace('.Dockerfile', '')).sort();
    // Services only: a browser app such as apps/console has no main.ts (the gateway serves it).
    const services = readdirSync(join(ROOT, 'apps')).filter((app) => existsSync(join(ROOT, 'apps', app, 'src/main.ts')));
    expect(dockerfiles).toEqual(services.sort());
    expect(runs(workflow.jobs.plan!).join('\n')).toContain('readdirSync("infra/docker")');
  });
});
