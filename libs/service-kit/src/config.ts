import { z } from 'zod';

/** A configuration value that is missing or malformed; the message is one line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`config error: ${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Shape = Record<string, z.ZodType>;

/** Reads and validates environment variables; each key of `shape` is a variable name. */
export function readConfig<S extends Shape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): { [K in keyof S]: z.output<S[K]> } {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const raw = env[name];
    const parsed = schema.safeParse(raw === '' ? undefined : raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = raw === undefined ? 'is required' : `${JSON.stringify(raw)} is invalid (${issue?.message ?? 'bad value'})`;
      throw new ConfigError(name, reason);
    }
    out[name] = parsed.data;
  }
  return out as { [K in keyof S]: z.output<S[K]> };
}

/** Runs `read`; on a ConfigError prints its one line to stderr and exits 1. */
export function exitOnConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Whether `source` runs in production mode (NODE_ENV=production), where no secret may fall back to a default. */
export function isProduction(source: Record<string, string | undefined> = process.env): boolean {
  return source.NODE_ENV === 'production';
}

/**
 * In production mode, throws a ConfigError naming the first of `variables` that `source` leaves
 * unset or empty; elsewhere does nothing. For secrets and connection strings: a development
 * default (or none) is fine on a laptop, but in production it would hide the omission until the
 * first request fails or, worse, succeed with a credential everyone knows.
 */
export function requireInProduction(source: Record<string, string | undefined>, variables: readonly string[]): void {
  if (!isProduction(source)) return;
  for (const name of variables) {
    const value = source[name];
    if (value === undefined || value.trim() === '') throw new ConfigError(name, 'is required when NODE_ENV=production');
  }
}

/** Cloud Run (and compose's default stop_grace_period) kill 10 s after SIGTERM; shutdown ends before. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8000;

/** Common variable types, so services describe their config in one line per variable. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback),
  string: (fallback?: string) => (fallback === undefined ? z.string().min(1) : z.string().min(1).default(fallback)),
  optionalString: () => z.string().min(1).optional(),
  url: (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback)),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  oneOf: <T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) => z.enum(values).default(fallback),
  list: (fallback: string[] = []) =>
    z
      .string()
      .optional()
      .transform((v) => (v === undefined ? fallback : v.split(',').map((s) => s.trim()).filter(Boolean))),
};

/** The shutdown budget every service reads and hands to startServer as `shutdownTimeoutMs`. */
export const shutdownConfigShape = {
  /** Drain, flush and close all end within this many milliseconds of SIGTERM. */
  SHUTDOWN_TIMEOUT_MS: env.int(DEFAULT_SHUTDOWN_TIMEOUT_MS, 100),
};
