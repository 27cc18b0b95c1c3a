import type { Body, Module, RegoVersion } from '../ast';
import { Parser } from './parser';

/** Parses one Rego module (v1 unless told v0); throws RegoError('rego_parse_error') with file/row/col. */
export function parseModule(source: string, file: string, regoVersion: RegoVersion = 'v1'): Module {
  return new Parser(source, file, 0, regoVersion).parseModule();
}

/** Parses a query (literals separated by `;` or newlines). */
export function parseQuery(source: string, file = 'query', regoVersion: RegoVersion = 'v1'): Body {
  const p = new Parser(source, file, 100000, regoVersion);
  const body = p.parseQuery('\u0000');
  if (body.length === 0) p.fail('empty query');
  return body;
}

/**
 * The package path of a module, below data (`package a.b` → ["a", "b"]), read by the engine's own
 * parser: checks that depend on where a module lives (OPA's bundle-root scope for the Policy API)
 * see the package exactly as the compiler will. Throws the parse error as parseModule does.
 */
export function modulePackagePath(source: string, file: string, regoVersion: RegoVersion = 'v1'): readonly string[] {
  return parseModule(source, file, regoVersion).pkg;
}
