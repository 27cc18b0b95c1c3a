/**
 * infra/terraform's shape, read from its parsed HCL (no provider can be downloaded here, so
 * `terraform validate` cannot run): one Cloud Run service per app, probes, ingress, secrets only
 * from Secret Manager, one service account each, Redis and Cloud SQL, variables and outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@cdktf/hcl2json';
import { ROOT } from '../src/stack';

type Block = Record<string, unknown>;
interface Hcl {
  resource?: Record<string, Record<string, Block[]>>;
  module?: Record<string, Block[]>;
  variable?: Record<string, Block[]>;
  output?: Record<string, Block[]>;
  data?: Record<string, Record<string, Block[]>>;
}

const TF = join(ROOT, 'infra/terraform');
// The services (a browser app such as apps/console has no main.ts: the gateway serves it).
const APPS = readdirSync(join(ROOT, 'apps'))
  .filter((app) => existsSync(join(ROOT, 'apps', app, 'src/main.ts')))
  .sort();

/** Every .tf file of a folder, merged the way Terraform reads a module. */
async function readModule(dir: string): Promise<{ hcl: Hcl; text: string }> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.tf'));
  const hcl: Hcl = {};
  let text = '';
  for (const f of files) {
    const source = readFileSync(join(dir, f), 'utf8');
    text += source;
    const parsed = (await parse(f, source)) as Record<string, Record<string, unknown>>;
    for (const [kind, entries] of Object.entries(parsed)) {
      const into = ((hcl as Record<string, Record<string, unknown>>)[kind] ??= {});
      for (const [name, value] of Object.entries(entries)) into[name] = kind === 'resource' || kind === 'data' ? { ...(into[name] as object), ...(value as object) } : value;
    }
  }
  return { hcl, text };
}

let root: { hcl: Hcl; text: string };
let service: { hcl: Hcl; text: string };
beforeAll(async () => {
  root = await readModule(TF);
  service = await readModule(join(TF, 'modules/service'));
});

const one = (blocks: Block[] | undefined): Block => {
  expect(blocks).toHaveLength(1);
  return blocks![0]!;
};
const appOf = (call: Block) => /\$\{var\.name_prefix\}-(.+)$/.exec(String(call.name))?.[1];

describe('infra/terraform', () => {
  it('has one Cloud Run service per app, each from the service module, named after it', () => {
    const calls = Object.values(root.hcl.module ?? {}).map(one);
    expect(calls.every((c) => c.source === './modules/service')).toBe(true);
    expect(calls.map(appOf).sort()).toEqual(APPS);
    for (const call of calls) expect(call.image, String(call.name)).toBe(`\${local.image["${appOf(call)}"]}`);
    expect(Object.keys(root.hcl.resource?.google_cloud_run_v2_service ?? {})).toEqual([]);
    expect(Object.keys(service.hcl.resource?.google_cloud_run_v2_service ?? {})).toEqual(['this']);
  });

  it('makes the gateway public and every other service internal', () => {
    const calls = Object.values(root.hcl.module ?? {}).map(one);
    expect(Object.fromEntries(calls.map((c) => [appOf(c), c.public]))).toEqual(Object.fromEntries(APPS.map((a) => [a, a === 'gateway'])));
    const run = one(service.hcl.resource!.google_cloud_run_v2_service!.this);
    expect(run.ingress).toBe('${var.public ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"}');
  });

  it('sizes each service from variables: min/max instances, CPU, memory, concurrency', () => {
    const run = one(service.hcl.resource!.google_cloud_run_v2_service!.this);
    const template = one(run.template as Block[]);
    expect(one(template.scaling as Block[])).toEqual({ min_instance_count: '${var.min_instances}', max_instance_count: '${var.max_instances}' });
    expect(template.max_instance_request_concurrency).toBe('${var.concurrency}');
    const container = one(template.containers as Block[]);
    expect(one(container.resources as Block[]).limits).toEqual({ cpu: '${var.cpu}', memory: '${var.memory}' });
    const defaults = one(root.hcl.variable!.services).default as Record<string, Block>;
    expect(Object.keys(defaults).sort()).toEqual(APPS);
    for (const call of Object.values(root.hcl.module ?? {}).map(one)) {
      for (const field of ['min_instances', 'max_instances', 'cpu', 'memory', 'concurrency']) {
        expect(call[field], `${appOf(call)}.${field}`).toBe(`\${var.services["${appOf(call)}"].${field}}`);
      }
    }
  });

  it('probes start-up on /ready and liveness on /health, on the app port', () => {
    const container = one(one(one(service.hcl.resource!.google_cloud_run_v2_service!.this).template as Block[]).containers as Block[]);
    const probe = (name: string) => one(one(container[name] as Block[]).http_get as Block[]);
    expect(probe('startup_probe')).toEqual({ path: '/ready', port: '${var.port}' });
    expect(probe('liveness_probe')).toEqual({ path: '/health', port: '${var.port}' });
  });

  it('gives each service its own service account, allowed to read only its own secrets', () => {
    const resources = service.hcl.resource!;
    expect(Object.keys(resources.google_service_account ?? {})).toEqual(['this']);
    const template = one(one(resources.google_cloud_run_v2_service!.this).template as Block[]);
    expect(template.service_account).toBe('${google_service_account.this.email}');
    const reads = one(resources.google_secret_manager_secret_iam_member!.reads);
    expect(reads).toMatchObject({ for_each: '${var.secrets}', secret_id: '${each.value}', role: 'roles/secretmanager.secretAccessor' });
    // Project-wide, only writing traces; no editor/owner/admin role anywhere.
    const projectRoles = Object.values(resources.google_project_iam_member ?? {}).map((b) => one(b).role);
    expect(projectRoles).toEqual(['roles/cloudtrace.agent']);
    expect(root.text + service.text).not.toMatch(/roles\/(owner|editor|[a-z.]*admin)\b/i);
  });

  it('takes every secret from Secret Manager and writes none in plain text', () => {
    const container = one(one(one(service.hcl.resource!.google_cloud_run_v2_service!.this).template as Block[]).containers as Block[]);
    const envBlocks = (container.dynamic as { env: Block[] }).env;
    expect(envBlocks.map((e) => e.for_each)).toEqual(['${var.env}', '${var.secrets}']);
    expect(JSON.stringify(envBlocks[1])).toContain('"value_source":[{"secret_key_ref":[{"secret":"${env.value}","version":"latest"}]}]');
    const secretName = /SECRET|PASSWORD|TOKEN|_KEY|DATABASE_URL|REDIS_URL/;
    for (const call of Object.values(root.hcl.module ?? {}).map(one)) {
      // Each secret variable maps to a Secret Manager secret, and no such variable is in the plain env.
      const secrets = Object.entries(call.secrets as Record<string, string>);
      expect(secrets.map(([name]) => name), appOf(call)).toContain('REDIS_URL');
      for (const [name, value] of secrets) expect(value, `${appOf(call)} ${name}`).toMatch(/^\$\{local\.secret\["[a-z-]+"\]\}$/);
      const plain = [...String(call.env).matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]!);
      expect(plain.filter((n) => secretName.test(n)), appOf(call)).toEqual([]);
    }
    // Secret values come from resources (generated passwords, Redis' auth string), never literals.
    const versions = one(root.hcl.resource!.google_secret_manager_secret_version!.generated);
    expect(versions.secret_data).toBe('${each.value}');
    expect(root.text + service.text).not.toMatch(/(password|secret_data|auth_string|token)\s*=\s*"[^"$]+"/i);
  });

  it('has Memorystore for Redis that never evicts, and a regional Cloud SQL with a database per service', () => {
    const redis = one(root.hcl.resource!.google_redis_instance!.main);
    expect(redis).toMatchObject({ tier: 'STANDARD_HA', auth_enabled: true, redis_configs: { 'maxmemory-policy': 'noeviction' } });
    const sql = one(root.hcl.resource!.google_sql_database_instance!.main);
    expect(sql.database_version).toMatch(/^POSTGRES_/);
    const settings = one(sql.settings as Block[]);
    expect(settings.availability_type).toBe('REGIONAL');
    expect(one(settings.ip_configuration as Block[])).toMatchObject({ ipv4_enabled: false });
    expect(root.text).toMatch(/databases\s*=\s*toset\(\["identity", "gateway", "audit"\]\)/);
  });

  it('keeps the OPA bundle in a versioned, uniform-access bucket only the policy-sidecar may read, and points the sidecar at it', async () => {
    const bucket = one(root.hcl.resource!.google_storage_bucket?.policy_bundles);
    expect(bucket).toMatchObject({ uniform_bucket_level_access: true, public_access_prevention: 'enforced', versioning: [{ enabled: true }] });
    // The one storage grant anywhere: object reads on this bucket, to the sidecar's service account.
    const grants = Object.entries(root.hcl.resource!).filter(([type]) => type.startsWith('google_storage_') && type.includes('_iam_'));
    expect(grants.map(([type, byName]) => [type, Object.keys(byName)])).toEqual([['google_storage_bucket_iam_member', ['policy_sidecar_reads_bundles']]]);
    expect(one(root.hcl.resource!.google_storage_bucket_iam_member!.policy_sidecar_reads_bundles)).toEqual({
      bucket: '${google_storage_bucket.policy_bundles.name}',
      role: 'roles/storage.objectViewer',
      member: 'serviceAccount:${module.policy_sidecar.service_account}',
    });
    expect(Object.keys(root.hcl.resource!.google_project_iam_member ?? {}).filter((n) => /storage/i.test(n))).toEqual([]);
    expect(root.text).not.toMatch(/roles\/storage\.(?!objectViewer")/);
    // The sidecar, and no other service, gets OPA's configuration inline (POLICY_CONFIG).
    const calls = Object.values(root.hcl.module ?? {}).map(one);
    expect(calls.filter((c) => String(c.env).includes('POLICY_CONFIG')).map(appOf)).toEqual(['policy-sidecar']);
    expect(String(one(root.hcl.module!.policy_sidecar).env)).toMatch(/POLICY_CONFIG\s*=\s*local\.policy_bundle_config\b/);
    // OPA's GCS pattern: the JSON API objects URL of this bucket, gcp_metadata credentials, `?alt=media`.
    const locals = ((await parse('policy-bundles.tf', readFileSync(join(TF, 'policy-bundles.tf'), 'utf8'))) as { locals: Block[] }).locals;
    const { policy_bundle_config: config, policy_bundle_object: object } = one(locals) as { policy_bundle_config: string; policy_bundle_object: string };
    expect(config).toMatch(/^\$\{jsonencode\(\{/);
    expect(config).toContain('url = "https://storage.googleapis.com/storage/v1/b/${google_storage_bucket.policy_bundles.name}/o"');
    expect(config).toMatch(/credentials = \{\s*gcp_metadata = \{ scopes = \["https:\/\/www\.googleapis\.com\/auth\/devstorage\.read_only"\] \}\s*\}/);
    expect(config).toMatch(/service\s*=\s*"gcs"/);
    expect(config).toContain('resource = "${local.policy_bundle_object}?alt=media"');
    expect(object).toBe('bundle.tar.gz');
    expect(one(root.hcl.output?.policy_bundle_url).value).toBe('gs://${google_storage_bucket.policy_bundles.name}/${local.policy_bundle_object}');
  });

  it('declares its inputs with descriptions and outputs the gateway URL and the secrets left to fill', () => {
    for (const name of ['project_id', 'region', 'image_repository', 'network', 'subnetwork', 'services']) {
      expect(one(root.hcl.variable?.[name]).description, name).toEqual(expect.any(String));
    }
    expect(Object.keys(root.hcl.output ?? {})).toEqual(expect.arrayContaining(['gateway_url', 'internal_urls', 'service_accounts', 'operator_secrets']));
  });
});
