/** OPA v1/topdown/comparison.go: ==, !=, <, <=, >, >= on any two values (total order). */
import type { BuiltinRegistry } from './registry';
import { def } from './utils';
import { compare, equal } from '../value';

export function register(r: BuiltinRegistry): void {
  def(r, 'equal', 2, ([a, b]) => equal(a!, b!));
  def(r, 'neq', 2, ([a, b]) => !equal(a!, b!));
  def(r, 'lt', 2, ([a, b]) => compare(a!, b!) < 0);
  def(r, 'lte', 2, ([a, b]) => compare(a!, b!) <= 0);
  def(r, 'gt', 2, ([a, b]) => compare(a!, b!) > 0);
  def(r, 'gte', 2, ([a, b]) => compare(a!, b!) >= 0);
}
