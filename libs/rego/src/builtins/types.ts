/** OPA v1/topdown/type.go and type_name.go: is_* predicates and type_name. */
import type { BuiltinRegistry } from './registry';
import { def } from './utils';
import { typeName, type TypeName } from '../value';

export function register(r: BuiltinRegistry): void {
  const pred = (name: string, t: TypeName): void =>
    // OPA's is_* answer false (not undefined) for other types.
    def(r, name, 1, ([x]) => typeName(x!) === t);
  pred('is_number', 'number');
  pred('is_string', 'string');
  pred('is_boolean', 'boolean');
  pred('is_array', 'array');
  pred('is_set', 'set');
  pred('is_object', 'object');
  pred('is_null', 'null');
  def(r, 'type_name', 1, ([x]) => typeName(x!));
}
