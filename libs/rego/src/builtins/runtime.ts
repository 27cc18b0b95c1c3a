/**
 * OPA's opa.runtime, trace and print. print is variadic and takes its operands as sets of
 * possible values (OPA's compiler rewrites each argument into a set comprehension so an
 * undefined argument prints as <undefined>); `formatPrintArgs` renders that shape.
 */
import type { BuiltinRegistry } from './registry';
import { termString } from './format';
import { parseDuration } from './gotime';
import { def, stringArg } from './utils';
import { parseModuleJSON } from './parse-module';
import { RegoObject, RegoSet, type Value } from '../value';

/** print's text for one argument: strings bare, others in Rego syntax. */
export function printValue(v: Value): string {
  return typeof v === 'string' ? v : termString(v);
}

/**
 * Renders print's operands. Each operand is either a plain value or, as OPA's compiler
 * produces, a set of its possible values: empty means undefined, several print as a set.
 */
export function formatPrintArgs(args: readonly Value[], argsAreSets: boolean): string {
  return args
    .map((a) => {
      if (!argsAreSets) return printValue(a);
      if (!(a instanceof RegoSet)) return printValue(a);
      if (a.size === 0) return '<undefined>';
      return a
        .sorted()
        .map(printValue)
        .join(', ');
    })
    .join(' ');
}

export function register(r: BuiltinRegistry): void {
  def(r, 'opa.runtime', 0, (_args, ctx) => {
    if (ctx.runtimeDoc !== undefined) return ctx.runtimeDoc;
    const out = new RegoObject();
    for (const [k, v] of Object.entries(ctx.runtime ?? {})) out.set(k, v);
    const env = new RegoObject();
    for (const k of Object.keys(ctx.env).sort()) {
      const v = ctx.env[k];
      if (v !== undefined) env.set(k, v);
    }
    out.set('env', env);
    return out;
  });
  def(
    r,
    'test.sleep',
    1,
    (args) => {
      // Blocks like OPA's (test-only) built-in; capped so a policy cannot stall a worker.
      const ms = Math.min(Number(parseDuration(stringArg(args, 0)) / 1_000_000n), 10_000);
      if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return null;
    },
    { nondeterministic: true },
  );
  def(r, 'rego.parse_module', 2, (args, ctx) => {
    const file = stringArg(args, 0);
    const source = stringArg(args, 1);
    // The engine may supply its own rendering; the default uses our parser.
    return ctx.parseModule ? ctx.parseModule(file, source) : parseModuleJSON(file, source);
  });
  def(r, 'trace', 1, (args, ctx) => {
    ctx.trace?.(stringArg(args, 0));
    return true;
  });
  r.register({
    name: 'print',
    arity: 0,
    variadic: true,
    // The evaluator passes each argument as a set of its values (see formatPrintArgs).
    fn: (args, ctx) => {
      ctx.print?.(formatPrintArgs(args, true));
      return true;
    },
  });
}
