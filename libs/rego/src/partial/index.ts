/**
 * Partial evaluation (OPA's Compile API): a query with some inputs unknown becomes residual
 * queries and support modules; the data-filtering targets turn them into UCAST or SQL.
 */
export type { Residual, SupportRule } from './evaluate';
export { exprText, bodyText, supportText } from './print';
export { bodyAst, supportAst } from './json-ast';
export type { AstExpr, AstModule, AstRule, AstTerm } from './json-ast';
export { FILTER_TARGETS, residualToUcast, ucastToSql } from './filters';
export type { FilterTarget, SqlDialect, TableMappings, UcastNode } from './filters';
