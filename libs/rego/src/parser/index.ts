import type { Body, Module } from '../ast';
import { Parser } from './parser';

/** Parses one Rego v1 module; throws RegoError('rego_parse_error') with file/row/col. */
export function parseModule(source: string, file: string): Module {
  return new Parser(source, file).parseModule();
}

/** Parses a query (literals separated by `;` or newlines). */
export function parseQuery(source: string, file = 'query'): Body {
  const p = new Parser(source, file, 100000);
  const body = p.parseQuery('\u0000');
  if (body.length === 0) p.fail('empty query');
  return body;
}
