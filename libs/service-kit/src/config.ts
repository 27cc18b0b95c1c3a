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
