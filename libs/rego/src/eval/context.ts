import type { BuiltinContext } from '../builtins';
import type { Value } from '../value';

/**
 * The built-in context of one evaluation, built lazily: most decisions call no built-in
 * that reads the clock or a cache, so neither the BigInt clock value nor the Map is made.
 */
export class LazyBuiltinContext implements BuiltinContext {
  private now: bigint | undefined;
  private map: Map<string, unknown> | undefined;

  constructor(
    private readonly envOpt?: Readonly<Record<string, string>>,
    readonly print?: (message: string) => void,
    readonly runtimeDoc?: Value,
  ) {}

  get timeNs(): bigint {
    return (this.now ??= BigInt(Date.now()) * 1_000_000n);
  }

  get env(): Readonly<Record<string, string>> {
    return this.envOpt ?? (process.env as Record<string, string>);
  }

  get cache(): Map<string, unknown> {
    return (this.map ??= new Map());
  }
}
