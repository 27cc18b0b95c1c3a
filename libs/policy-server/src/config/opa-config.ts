import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { ConfigError } from '@cloud-stack/service-kit';

/**
 * OPA's configuration file (`opa run -c config.yaml`), the parts the sidecar acts on. Unknown keys
 * are kept in `raw` (GET /v1/config shows them) but do nothing; a key the sidecar would have to
 * honour to be safe (an unsupported credential type, a bundle without a usable service) is a
 * ConfigError naming the key.
 */
export interface OpaConfig {
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly keys: Readonly<Record<string, KeyConfig>>;
  readonly bundles: Readonly<Record<string, BundleConfig>>;
  /** Absent when the file has no `decision_logs` section. */
  readonly decision_logs?: DecisionLogsConfig;
  readonly status?: StatusConfig;
  /** OPA's `default_decision`, as a path (`/system/main` unless configured). */
  readonly default_decision: string;
  /** Where `persist: true` bundles are written (OPA: `persistence_directory`, default `.opa` in the working directory). */
  readonly persistence_directory: string;
  /** The whole file as parsed (environment variables substituted), for GET /v1/config. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ServiceConfig {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly credentials?: ServiceCredentials;
  readonly response_header_timeout_seconds: number;
}

/** The credential types implemented: OPA's `bearer` and `gcp_metadata`. */
export type ServiceCredentials =
  | { readonly type: 'bearer'; readonly scheme: string; readonly token?: string; readonly token_path?: string }
  | { readonly type: 'gcp_metadata'; readonly endpoint: string; readonly scopes?: readonly string[]; readonly audience?: string };

export type SigningAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'HS256' | 'HS384' | 'HS512';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'];

export interface KeyConfig {
  readonly algorithm: SigningAlgorithm;
  /** PEM public key (or certificate) for RS/PS/ES, the shared secret for HS. */
  readonly key: string;
  readonly scope?: string;
}

export interface BundleSigningConfig {
  readonly keyid?: string;
  readonly scope?: string;
  readonly exclude_files: readonly string[];
}

export interface BundleConfig {
  readonly name: string;
  readonly service: string;
  readonly resource: string;
  readonly persist: boolean;
  readonly polling: { readonly min_delay_seconds: number; readonly max_delay_seconds: number };
  readonly signing?: BundleSigningConfig;
  readonly size_limit_bytes: number;
}

export interface DecisionLogsConfig {
  readonly service?: string;
  readonly resource: string;
  readonly partition_name?: string;
  readonly console: boolean;
  readonly reporting: {
    readonly buffer_type: 'size' | 'event';
    readonly buffer_size_limit_bytes?: number;
    readonly buffer_size_limit_events?: number;
    readonly upload_size_limit_bytes: number;
    readonly min_delay_seconds: number;
    readonly max_delay_seconds: number;
  };
  readonly mask_decision: string;
  readonly drop_decision: string;
}

export interface StatusConfig {
  readonly service?: string;
  readonly partition_name?: string;
  readonly console: boolean;
}

const DEFAULT_BUNDLE_MIN_DELAY = 60;
const DEFAULT_BUNDLE_MAX_DELAY = 120;
const DEFAULT_SIZE_LIMIT = 1024 * 1024 * 1024;
const GCP_METADATA_ENDPOINT = 'http://metadata.google.internal';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Small readers over one section, each failure one ConfigError naming the dotted key. */
class Section {
  constructor(
    readonly path: string,
    readonly value: Obj,
  ) {}

  static of(path: string, value: unknown): Section {
    if (value === undefined || value === null) return new Section(path, {});
    if (!isObj(value)) throw new ConfigError(path, 'must be a mapping');
    return new Section(path, value);
  }

  key(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  section(name: string): Section {
    return Section.of(this.key(name), this.value[name]);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined && this.value[name] !== null;
  }

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const v = this.value[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw new ConfigError(this.key(name), `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  number(name: string, fallback: number): number;
  number(name: string): number | undefined;
  number(name: string, fallback?: number): number | undefined {
    const v = this.value[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(this.key(name), `must be a non-negative number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.value[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new ConfigError(this.key(name), `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  strings(name: string): string[] | undefined {
    const v = this.value[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new ConfigError(this.key(name), 'must be a list of strings');
    return v as string[];
  }

  stringMap(name: string): Record<string, string> {
    const s = this.section(name);
    const out: Record<string, string> = {};
    for (const k of Object.keys(s.value)) out[k] = s.string(k) ?? '';
    return out;
  }
}

/** OPA substitutes `${VAR}` in the file with the environment variable before parsing. */
function substituteEnv(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '');
}

function parseServices(value: unknown): Record<string, ServiceConfig> {
  const entries: Array<[string, Section]> = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const s = Section.of(`services[${i}]`, v);
      const name = s.string('name');
      if (!name) throw new ConfigError(s.key('name'), 'is required when services is a list');
      entries.push([name, s]);
    });
  } else {
    const all = Section.of('services', value);
    for (const name of Object.keys(all.value)) entries.push([name, all.section(name)]);
  }
  const out: Record<string, ServiceConfig> = {};
  for (const [name, s] of entries) {
    const url = s.string('url');
    if (!url) throw new ConfigError(s.key('url'), 'is required');
    try {
      new URL(url);
    } catch {
      throw new ConfigError(s.key('url'), `${JSON.stringify(url)} is not a URL`);
    }
    out[name] = {
      name,
      url,
      headers: s.stringMap('headers'),
      credentials: parseCredentials(s.section('credentials')),
      response_header_timeout_seconds: s.number('response_header_timeout_seconds', 10),
    };
  }
  return out;
}

function parseCredentials(s: Section): ServiceCredentials | undefined {
  const kinds = Object.keys(s.value);
  if (kinds.length === 0) return undefined;
  if (kinds.length > 1) throw new ConfigError(s.path, `exactly one credential type may be set, got ${kinds.join(', ')}`);
  const kind = kinds[0]!;
  const c = s.section(kind);
  switch (kind) {
    case 'bearer': {
      const token = c.string('token');
      const token_path = c.string('token_path');
      if (!token && !token_path) throw new ConfigError(c.key('token'), 'token or token_path is required');
      return { type: 'bearer', scheme: c.string('scheme', 'Bearer'), token, token_path };
    }
    case 'gcp_metadata':
      return { type: 'gcp_metadata', endpoint: c.string('endpoint', GCP_METADATA_ENDPOINT), scopes: c.strings('scopes'), audience: c.string('audience') };
    default:
      throw new ConfigError(s.key(kind), 'unsupported credential type (supported: bearer, gcp_metadata)');
  }
}

function parseKeys(all: Section): Record<string, KeyConfig> {
  const out: Record<string, KeyConfig> = {};
  for (const id of Object.keys(all.value)) {
    const k = all.section(id);
    const algorithm = k.string('algorithm', 'RS256');
    if (!SIGNING_ALGORITHMS.includes(algorithm as SigningAlgorithm)) {
      throw new ConfigError(k.key('algorithm'), `unsupported algorithm ${JSON.stringify(algorithm)} (supported: ${SIGNING_ALGORITHMS.join(', ')})`);
    }
    const key = k.string('key');
    if (!key) throw new ConfigError(k.key('key'), 'is required (the PEM public key, or the secret for HS algorithms)');
    out[id] = { algorithm: algorithm as SigningAlgorithm, key, scope: k.string('scope') };
  }
  return out;
}

function pickService(s: Section, services: Record<string, ServiceConfig>): string {
  const named = s.string('service');
  if (named !== undefined) {
    if (!services[named]) throw new ConfigError(s.key('service'), `names no configured service (${Object.keys(services).join(', ') || 'none configured'})`);
    return named;
  }
  const names = Object.keys(services);
  // OPA's rule: with exactly one service it is the default.
  if (names.length !== 1) throw new ConfigError(s.key('service'), 'is required unless exactly one service is configured');
  return names[0]!;
}

function parseBundles(all: Section, services: Record<string, ServiceConfig>, keys: Record<string, KeyConfig>): Record<string, BundleConfig> {
  const out: Record<string, BundleConfig> = {};
  for (const name of Object.keys(all.value)) {
    const b = all.section(name);
    const polling = b.section('polling');
    const min = polling.number('min_delay_seconds', DEFAULT_BUNDLE_MIN_DELAY);
    const max = polling.number('max_delay_seconds', Math.max(DEFAULT_BUNDLE_MAX_DELAY, min));
    if (max < min) throw new ConfigError(polling.key('max_delay_seconds'), `must be at least min_delay_seconds (${min})`);
    if (polling.has('long_polling_timeout_seconds')) throw new ConfigError(polling.key('long_polling_timeout_seconds'), 'long polling is not supported; use min/max_delay_seconds');
    let signing: BundleSigningConfig | undefined;
    if (b.has('signing')) {
      const s = b.section('signing');
      const keyid = s.string('keyid');
      if (keyid !== undefined && !keys[keyid]) throw new ConfigError(s.key('keyid'), `names no key under keys (${Object.keys(keys).join(', ') || 'none configured'})`);
      signing = { keyid, scope: s.string('scope'), exclude_files: s.strings('exclude_files') ?? [] };
    }
    out[name] = {
      name,
      service: pickService(b, services),
      resource: b.string('resource', `bundles/${name}`),
      persist: b.bool('persist', false),
      polling: { min_delay_seconds: min, max_delay_seconds: max },
      signing,
      size_limit_bytes: b.number('size_limit_bytes', DEFAULT_SIZE_LIMIT),
    };
  }
  return out;
}

function parseDecisionLogs(s: Section, services: Record<string, ServiceConfig>): DecisionLogsConfig {
  const r = s.section('reporting');
  const bufferType = r.string('buffer_type', 'size');
  if (bufferType !== 'size' && bufferType !== 'event') throw new ConfigError(r.key('buffer_type'), 'must be size or event');
  const console = s.bool('console', false);
  const service = s.has('service') || (Object.keys(services).length === 1 && !console) ? pickService(s, services) : undefined;
  const min = r.number('min_delay_seconds', 300);
  const max = r.number('max_delay_seconds', Math.max(600, min));
  if (max < min) throw new ConfigError(r.key('max_delay_seconds'), `must be at least min_delay_seconds (${min})`);
  return {
    service,
    resource: s.string('resource', '/logs'),
    partition_name: s.string('partition_name'),
    console,
    reporting: {
      buffer_type: bufferType,
      buffer_size_limit_bytes: r.number('buffer_size_limit_bytes'),
      buffer_size_limit_events: r.number('buffer_size_limit_events'),
      upload_size_limit_bytes: r.number('upload_size_limit_bytes', 32768),
      min_delay_seconds: min,
      max_delay_seconds: max,
    },
    mask_decision: s.string('mask_decision', '/system/log/mask'),
    drop_decision: s.string('drop_decision', '/system/log/drop'),
  };
}

function parseStatus(s: Section, services: Record<string, ServiceConfig>): StatusConfig {
  const console = s.bool('console', false);
  return { service: s.has('service') ? pickService(s, services) : undefined, partition_name: s.string('partition_name'), console };
}

/** Parses an OPA configuration document (already YAML/JSON-decoded). */
export function parseOpaConfig(doc: unknown, cwd: string = process.cwd()): OpaConfig {
  const root = Section.of('', doc ?? {});
  const services = parseServices(root.value['services']);
  const keys = parseKeys(root.section('keys'));
  const defaultDecision = root.string('default_decision', '/system/main');
  return {
    services,
    labels: root.stringMap('labels'),
    keys,
    bundles: parseBundles(root.section('bundles'), services, keys),
    decision_logs: root.has('decision_logs') ? parseDecisionLogs(root.section('decision_logs'), services) : undefined,
    status: root.has('status') ? parseStatus(root.section('status'), services) : undefined,
    default_decision: `/${defaultDecision.replace(/^\/+|\/+$/g, '')}`,
    persistence_directory: root.string('persistence_directory', `${cwd}/.opa`),
    raw: root.value,
  };
}

/** The configuration of a sidecar started without a file: no services, bundles or keys. */
export const EMPTY_OPA_CONFIG: OpaConfig = parseOpaConfig({});

/**
 * Reads OPA's configuration file (YAML or JSON); `${VAR}` is replaced by the environment variable
 * as OPA does. A missing or malformed file is a ConfigError naming POLICY_CONFIG_FILE.
 */
export function readOpaConfigFile(file: string, env: Record<string, string | undefined> = process.env): OpaConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('POLICY_CONFIG_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return readOpaConfigText(text, 'POLICY_CONFIG_FILE', file, env);
}

/**
 * OPA's configuration as text (POLICY_CONFIG: what a Cloud Run service sets as one environment
 * variable, where mounting a file would need a secret volume); `${VAR}` substituted as in a file.
 */
export function readOpaConfigText(text: string, variable = 'POLICY_CONFIG', origin = variable, env: Record<string, string | undefined> = process.env): OpaConfig {
  let doc: unknown;
  try {
    doc = loadYaml(substituteEnv(text, env));
  } catch (err) {
    throw new ConfigError(variable, `${origin} is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return parseOpaConfig(doc);
}

/** `default_decision` as path segments (`/system/main` → ["system", "main"]), for `POST /`. */
export function defaultDecisionPath(config: OpaConfig): string[] {
  return config.default_decision.split('/').filter((s) => s !== '');
}

/** The `decision_logs` section, undefined when not configured. */
export function decisionLogsConfig(config: OpaConfig): DecisionLogsConfig | undefined {
  return config.decision_logs;
}

/** A configured service by name (its URL, headers and credentials), for the plugins that call one. */
export function serviceConfig(config: OpaConfig, name: string): ServiceConfig | undefined {
  return config.services[name];
}

const SECRET_KEYS = new Set(['credentials', 'headers', 'key', 'private_key', 'token', 'password', 'client_secret']);

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) if (!SECRET_KEYS.has(k)) out[k] = redact(v);
  return out;
}

/**
 * The configuration GET /v1/config shows: the file as given, without service credentials and
 * headers (which may carry tokens) and without key material (OPA likewise removes them).
 */
export function redactedOpaConfig(config: OpaConfig): Record<string, unknown> {
  return redact(config.raw) as Record<string, unknown>;
}
