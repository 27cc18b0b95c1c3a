import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load as loadYaml } from 'js-yaml';

// The repository's deployment files: what `docker compose up` and the images ship.
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const DOCKER = `${ROOT}infra/docker/`;

interface ComposeService {
  readonly ports?: readonly string[];
  readonly networks?: readonly string[];
  readonly profiles?: readonly string[];
  readonly environment?: Readonly<Record<string, string | Record<string, string>>>;
  readonly volumes?: readonly string[];
  readonly build?: unknown;
  readonly stop_grace_period?: string;
}
interface Compose {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly networks: Readonly<Record<string, { internal?: boolean } | null>>;
}

const composeText = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
const compose = loadYaml(composeText) as Compose;
const dockerfiles = readdirSync(DOCKER)
  .filter((f) => f.endsWith('.Dockerfile'))
  .map((f) => ({ name: f, text: readFileSync(DOCKER + f, 'utf8') }));
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|_KEY/;

/** A service's environment with YAML merge keys (`<<: *anchor`) applied, as compose applies them. */
function envOf(service: ComposeService | undefined): Record<string, string> {
  const { '<<': merged, ...own } = service?.environment ?? {};
  return { ...(merged as Record<string, string> | undefined), ...(own as Record<string, string>) };
}

describe('docker-compose.yml', () => {
  it('publishes only the gateway', () => {
    const published = Object.entries(compose.services)
      .filter(([, s]) => s.ports?.length)
      .map(([name]) => name);
    expect(published).toEqual(['gateway']);
  });

  it('keeps PostgreSQL, Redis and the internal APIs on an internal network only', () => {
    for (const name of ['postgres', 'redis', 'identity', 'policy-sidecar', 'audit-writer']) {
      const networks = compose.services[name]?.networks ?? [];
      expect(networks.length, name).toBeGreaterThan(0);
      for (const n of networks) expect(compose.networks[n]?.internal, `${name} on ${n}`).toBe(true);
    }
  });

  it('gives PostgreSQL and Redis passwords and has no default for any secret', () => {
    expect(composeText).not.toMatch(/POSTGRES_HOST_AUTH_METHOD/);
    expect(envOf(compose.services.postgres).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(composeText).toMatch(/--requirepass/);
    // ${NAME:-fallback} with a non-empty fallback on a secret would ship that fallback.
    const fallbacks = [...composeText.matchAll(/\$\{([A-Z0-9_]+):?-([^}]*)\}/g)].filter(([, name, value]) => SECRET_NAME.test(name!) && value !== '');
    expect(fallbacks.map(([m]) => m)).toEqual([]);
  });

  it('loads the demo seed only in the demo profile', () => {
    const seeding = Object.entries(compose.services).filter(([, s]) => JSON.stringify(s).includes('infra/seed'));
    expect(seeding.length).toBeGreaterThan(0);
    for (const [name, s] of seeding) expect(s.profiles, name).toEqual(['demo']);
  });

  it('stops each service within a grace period longer than its shutdown budget', () => {
    const services = Object.entries(compose.services).filter(([, s]) => s.build && !s.profiles);
    expect(services.length).toBeGreaterThan(0);
    for (const [name, s] of services) {
      const grace = /^(\d+)s$/.exec(s.stop_grace_period ?? '');
      const budget = /^\$\{SHUTDOWN_TIMEOUT_MS:-(\d+)\}$/.exec(envOf(s).SHUTDOWN_TIMEOUT_MS ?? '');
      expect(grace, `${name} stop_grace_period`).not.toBeNull();
      expect(budget, `${name} SHUTDOWN_TIMEOUT_MS`).not.toBeNull();
      expect(Number(grace![1]) * 1000, name).toBeGreaterThan(Number(budget![1]));
      // Cloud Run's fixed 10 s as well.
      expect(Number(budget![1]), name).toBeLessThan(10_000);
    }
  });

  it('runs the policy sidecar with token authentication and system.authz', () => {
    expect(envOf(compose.services['policy-sidecar'])).toMatchObject({ POLICY_AUTHENTICATION: 'token', POLICY_AUTHORIZATION: 'basic' });
  });
});

describe('the images (infra/docker)', () => {
  it('bake in no seed and no secret', () => {
    expect(dockerfiles.length).toBeGreaterThan(0);
    for (const { name, text } of dockerfiles) {
      expect(text, name).not.toMatch(/^COPY\s+infra\/seed/m);
      const env = [...text.matchAll(/^(?:ENV|ARG)\s+([\s\S]*?)(?<!\\)\n/gm)].map((m) => m[1]!).join(' ');
      expect(env, name).not.toMatch(SECRET_NAME);
    }
  });

  it('leave the policy sidecar on loopback', () => {
    const sidecar = dockerfiles.find((f) => f.name === 'policy-sidecar.Dockerfile')!.text;
    expect(sidecar).not.toMatch(/^\s*HOST=/m);
    expect(sidecar).not.toMatch(/ENV[^\n]*HOST=/);
  });
});
