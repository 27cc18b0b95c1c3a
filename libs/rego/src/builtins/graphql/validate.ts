/**
 * Schema and query validation after gqlparser's validator (the rules policies meet most):
 * schema loading (redeclarations, extensions, undefined types, interfaces, unions, input
 * types, directives) and query rules (known fields, arguments, required arguments,
 * fragments, variables). Messages keep gqlparser's wording.
 */
import { GraphQLError } from './lexer';
import { parseSchemaText, positions, type Json } from './parser';

type Obj = { [k: string]: Json };

const PRELUDE = `
scalar Int
scalar Float
scalar String
scalar Boolean
scalar ID
directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @deprecated(reason: String = "No longer supported") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE
directive @specifiedBy(url: String!) on SCALAR
directive @oneOf on INPUT_OBJECT
directive @defer(if: Boolean = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean = false): [__EnumValue!] inputFields: [__InputValue!] ofType: __Type specifiedByURL: String }
type __Field { name: String! description: String args: [__InputValue!]! type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]! args: [__InputValue!]! isRepeatable: Boolean! }
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }
`;

let prelude: Obj | undefined;
function preludeDoc(): Obj {
  if (!prelude) {
    prelude = parseSchemaText(PRELUDE);
    for (const d of prelude.Definitions as Obj[]) d.BuiltIn = true;
  }
  return prelude;
}

export interface Schema {
  readonly types: Map<string, Obj>;
  readonly directives: Map<string, Obj>;
  query?: Obj;
  mutation?: Obj;
  subscription?: Obj;
}

const list = (v: Json | undefined): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
const fail = (msg: string): never => {
  throw new GraphQLError(msg, 0, 0);
};

/** Innermost named type of a type reference. */
export function typeName(t: Json | undefined): string {
  let cur = t as Obj | null | undefined;
  while (cur && !str(cur.NamedType) && cur.Elem) cur = cur.Elem as Obj;
  return cur ? str(cur.NamedType) : '';
}

export function typeString(t: Json | undefined): string {
  const o = t as Obj | null | undefined;
  if (!o) return '';
  const inner = str(o.NamedType) || `[${typeString(o.Elem)}]`;
  return inner + (o.NonNull === true ? '!' : '');
}

function validateName(name: string): void {
  if (name.startsWith('__')) fail(`Name "${name}" must not begin with "__", which is reserved by GraphQL introspection.`);
}

function validateDirectives(s: Schema, dirs: Json | undefined, location: string, current?: string): void {
  for (const d of list(dirs)) {
    const name = str(d.Name);
    validateName(name);
    if (current && name === current) fail(`Directive ${name} cannot refer to itself.`);
    const def = s.directives.get(name);
    if (!def) return fail(`Undefined directive ${name}.`);
    if (!list(def.Locations).includes(location as unknown as Obj)) fail(`Directive ${name} is not applicable on ${location}.`);
    for (const a of list(d.Arguments)) {
      if (!list(def.Arguments).some((x) => x.Name === a.Name)) fail(`Undefined argument ${str(a.Name)} for directive ${name}.`);
    }
    for (const a of list(def.Arguments)) {
      const t = a.Type as Obj;
      if (t.NonNull === true && !a.DefaultValue) {
        const given = list(d.Arguments).find((x) => x.Name === a.Name);
        if (!given || (given.Value as Obj).Kind === 6) fail(`Argument ${str(a.Name)} for directive ${name} cannot be null.`);
      }
    }
  }
}

function validateTypeRef(s: Schema, t: Json | undefined): void {
  const n = typeName(t);
  if (!s.types.has(n)) fail(`Undefined type ${n}.`);
}

function validateImplements(s: Schema, def: Obj, intfName: string): void {
  const intf = s.types.get(intfName);
  if (!intf) return fail(`Undefined type ${intfName}.`);
  if (intf.Kind !== 'INTERFACE') fail(`${str(def.Name)} is a non interface type ${intfName}.`);
  for (const req of list(intf.Fields)) {
    const found = list(def.Fields).find((f) => f.Name === req.Name);
    if (!found) return fail(`For ${str(def.Name)} to implement ${intfName} it must have a field called ${str(req.Name)}.`);
    for (const arg of list(req.Arguments)) {
      if (!list(found.Arguments).some((a) => a.Name === arg.Name)) {
        fail(`For ${str(def.Name)} to implement ${intfName} the field ${str(req.Name)} must have the same arguments but it is missing ${str(arg.Name)}.`);
      }
    }
  }
  for (const anc of list(intf.Interfaces) as unknown as string[]) {
    if (!(list(def.Interfaces) as unknown as string[]).includes(anc)) {
      fail(`${str(def.Name)} must implement ${anc} because it is implemented by ${intfName}.`);
    }
  }
}

function validateDefinition(s: Schema, def: Obj): void {
  if (def.BuiltIn !== true) validateName(str(def.Name));
  const kind = str(def.Kind);
  const kindOf = (t: Json | undefined): string | undefined => s.types.get(typeName(t))?.Kind as string | undefined;
  if (kind === 'OBJECT' || kind === 'INTERFACE') {
    if (list(def.Fields).length === 0) fail(`${kind} ${str(def.Name)}: must define one or more fields.`);
    for (const f of list(def.Fields)) {
      const k = kindOf(f.Type);
      if (k && !['SCALAR', 'OBJECT', 'INTERFACE', 'UNION', 'ENUM'].includes(k)) {
        fail(`${kind} ${str(def.Name)}: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.`);
      }
    }
  } else if (kind === 'ENUM') {
    if (list(def.EnumValues).length === 0) fail(`${kind} ${str(def.Name)}: must define one or more unique enum values.`);
    for (const v of list(def.EnumValues)) {
      if (['true', 'false', 'null'].includes(str(v.Name))) fail(`${kind} ${str(def.Name)}: non-enum value ${str(v.Name)}.`);
      validateDirectives(s, v.Directives, 'ENUM_VALUE');
    }
  } else if (kind === 'INPUT_OBJECT') {
    if (list(def.Fields).length === 0) fail(`${kind} ${str(def.Name)}: must define one or more input fields.`);
    for (const f of list(def.Fields)) {
      const k = kindOf(f.Type);
      if (k && !['SCALAR', 'ENUM', 'INPUT_OBJECT'].includes(k)) fail(`${kind} ${str(def.Name)}: field must be one of SCALAR, ENUM, INPUT_OBJECT.`);
    }
  }
  const fields = list(def.Fields);
  fields.forEach((f, i) => {
    for (const g of fields.slice(i + 1)) if (f.Name === g.Name) fail(`Field ${str(def.Name)}.${str(f.Name)} can only be defined once.`);
  });
  if (def.BuiltIn === true) return;
  for (const f of fields) {
    validateName(str(f.Name));
    validateTypeRef(s, f.Type);
    for (const a of list(f.Arguments)) {
      validateName(str(a.Name));
      validateTypeRef(s, a.Type);
      validateDirectives(s, a.Directives, 'ARGUMENT_DEFINITION');
    }
    validateDirectives(s, f.Directives, kind === 'INPUT_OBJECT' ? 'INPUT_FIELD_DEFINITION' : 'FIELD_DEFINITION');
  }
  for (const t of list(def.Types) as unknown as string[]) {
    const td = s.types.get(t);
    if (!td) fail(`Undefined type ${t}.`);
    else if (td.Kind !== 'OBJECT') fail(`${kind} type "${t}" must be OBJECT.`);
  }
  for (const i of list(def.Interfaces) as unknown as string[]) validateImplements(s, def, i);
  validateDirectives(s, def.Directives, kind);
}

/** gqlparser's ValidateSchemaDocument over the prelude merged with the document. */
export function loadSchema(doc: Obj): Schema {
  const pre = preludeDoc();
  const defs = [...list(pre.Definitions), ...list(doc.Definitions)].map((d) => ({ ...d }));
  const s: Schema = { types: new Map(), directives: new Map() };
  for (const d of defs) {
    if (s.types.has(str(d.Name))) fail(`Cannot redeclare type ${str(d.Name)}.`);
    s.types.set(str(d.Name), d);
  }
  for (const ext of list(doc.Extensions)) {
    let def = s.types.get(str(ext.Name));
    if (!def) {
      def = { Kind: ext.Kind, Name: ext.Name, Description: '', Directives: [], Interfaces: [], Fields: [], Types: [], EnumValues: [], BuiltIn: false };
      s.types.set(str(ext.Name), def);
    }
    if (def.Kind !== ext.Kind) fail(`Cannot extend type ${str(ext.Name)} because the base type is a ${str(def.Kind)}, not ${str(ext.Kind)}.`);
    for (const k of ['Directives', 'Interfaces', 'Fields', 'Types', 'EnumValues']) def[k] = [...list(def[k]), ...list(ext[k])];
  }
  for (const d of [...list(pre.Directives), ...list(doc.Directives)]) {
    const n = str(d.Name);
    if (s.directives.has(n) && !['include', 'skip', 'deprecated', 'specifiedBy', 'defer', 'oneOf'].includes(n)) fail(`Cannot redeclare directive ${n}.`);
    if (!s.directives.has(n)) s.directives.set(n, d);
  }
  const schemas = list(doc.Schema);
  if (schemas.length > 1) fail('Cannot have multiple schema entry points, consider schema extensions instead.');
  const roots = (ops: Json | undefined): void => {
    for (const op of list(ops)) {
      const def = s.types.get(str(op.Type));
      if (!def) return fail(`Schema root ${str(op.Operation)} refers to a type ${str(op.Type)} that does not exist.`);
      if (op.Operation === 'query') s.query = def;
      else if (op.Operation === 'mutation') s.mutation = def;
      else s.subscription = def;
    }
  };
  if (schemas.length === 1) {
    roots(schemas[0]!.OperationTypes);
    validateDirectives(s, schemas[0]!.Directives, 'SCHEMA');
  }
  for (const ext of list(doc.SchemaExtension)) {
    roots(ext.OperationTypes);
    validateDirectives(s, ext.Directives, 'SCHEMA');
  }
  for (const n of [...s.types.keys()].sort()) validateDefinition(s, s.types.get(n)!);
  for (const d of list(doc.Directives)) {
    validateName(str(d.Name));
    for (const a of list(d.Arguments)) {
      validateName(str(a.Name));
      validateTypeRef(s, a.Type);
      validateDirectives(s, a.Directives, 'ARGUMENT_DEFINITION', str(d.Name));
    }
  }
  if (schemas.length === 0) {
    s.query ??= s.types.get('Query');
    s.mutation ??= s.types.get('Mutation');
    s.subscription ??= s.types.get('Subscription');
  }
  return s;
}

// ---- queries ----

function fieldDef(s: Schema, parent: Obj, name: string): Obj | undefined {
  if (name === '__typename') return { Name: name, Type: { NamedType: 'String', NonNull: true }, Arguments: [] };
  if (parent === s.query && name === '__schema') return { Name: name, Type: { NamedType: '__Schema', NonNull: true }, Arguments: [] };
  if (parent === s.query && name === '__type') {
    return { Name: name, Type: { NamedType: '__Type' }, Arguments: [{ Name: 'name', Type: { NamedType: 'String', NonNull: true } }] };
  }
  return list(parent.Fields).find((f) => f.Name === name);
}

/** Validates a parsed query document against a loaded schema; throws the first problem. */
export function validateQuery(s: Schema, doc: Obj): void {
  const fragments = new Map<string, Obj>();
  for (const f of list(doc.Fragments)) {
    if (fragments.has(str(f.Name))) fail(`There can be only one fragment named "${str(f.Name)}".`);
    fragments.set(str(f.Name), f);
  }
  const usedFragments = new Set<string>();
  const opNames = new Set<string>();
  for (const op of list(doc.Operations)) {
    const name = str(op.Name);
    if (name && opNames.has(name)) fail(`There can be only one operation named "${name}".`);
    opNames.add(name);
    if (!name && list(doc.Operations).length > 1) fail('This anonymous operation must be the only defined operation.');
    const root = op.Operation === 'mutation' ? s.mutation : op.Operation === 'subscription' ? s.subscription : s.query;
    if (!root) return fail(`Schema does not support operation type "${str(op.Operation)}"`);
    const defined = new Map<string, Obj>();
    for (const v of list(op.VariableDefinitions)) {
      const vn = str(v.Variable);
      if (defined.has(vn)) fail(`There can be only one variable named "$${vn}".`);
      defined.set(vn, v);
      const t = s.types.get(typeName(v.Type));
      if (!t) fail(`Unknown type "${typeName(v.Type)}".`);
      else if (!['SCALAR', 'ENUM', 'INPUT_OBJECT'].includes(str(t.Kind))) fail(`Variable "$${vn}" cannot be non-input type "${typeString(v.Type)}".`);
    }
    const used = new Set<string>();
    const seenFragments = new Set<string>();
    const useValue = (v: Json | undefined): void => {
      const o = v as Obj | null | undefined;
      if (!o) return;
      if (o.Kind === 0) {
        const vn = str(o.Raw);
        if (!defined.has(vn)) fail(name ? `Variable "$${vn}" is not defined by operation "${name}".` : `Variable "$${vn}" is not defined.`);
        used.add(vn);
      }
      for (const c of list(o.Children)) useValue(c.Value);
    };
    const checkDirectives = (dirs: Json | undefined, location: string): void => {
      for (const d of list(dirs)) {
        const def = s.directives.get(str(d.Name));
        if (!def) fail(`Unknown directive "@${str(d.Name)}".`);
        else if (!list(def.Locations).includes(location as unknown as Obj)) fail(`Directive "@${str(d.Name)}" may not be used on ${location}.`);
        for (const a of list(d.Arguments)) useValue(a.Value);
      }
    };
    const walk = (sel: Json | undefined, parent: Obj): void => {
      for (const item of list(sel)) {
        try {
          walkItem(item, parent);
        } catch (e) {
          const at = positions.get(item);
          if (e instanceof GraphQLError && e.line === 0 && at) throw new GraphQLError(e.message, at.line, at.col);
          throw e;
        }
      }
    };
    const walkItem = (item: Obj, parent: Obj): void => {
      {
        if ('Alias' in item) {
          const fname = str(item.Name);
          const fd = fieldDef(s, parent, fname);
          if (!fd) return fail(`Cannot query field "${fname}" on type "${str(parent.Name)}".`);
          for (const a of list(item.Arguments)) {
            if (!list(fd.Arguments).some((x) => x.Name === a.Name)) fail(`Unknown argument "${str(a.Name)}" on field "${str(parent.Name)}.${fname}".`);
            useValue(a.Value);
          }
          for (const a of list(fd.Arguments)) {
            const t = a.Type as Obj;
            if (t.NonNull === true && !a.DefaultValue && !list(item.Arguments).some((x) => x.Name === a.Name)) {
              fail(`Field "${fname}" argument "${str(a.Name)}" of type "${typeString(a.Type)}" is required, but it was not provided.`);
            }
          }
          checkDirectives(item.Directives, 'FIELD');
          const target = s.types.get(typeName(fd.Type));
          const leaf = !target || target.Kind === 'SCALAR' || target.Kind === 'ENUM';
          const subs = list(item.SelectionSet);
          if (leaf && subs.length > 0) fail(`Field "${fname}" must not have a selection since type "${typeString(fd.Type)}" has no subfields.`);
          if (!leaf && subs.length === 0) fail(`Field "${fname}" of type "${typeString(fd.Type)}" must have a selection of subfields. Did you mean "${fname} { ... }"?`);
          if (target && subs.length > 0) walk(subs, target);
        } else if ('TypeCondition' in item) {
          const cond = str(item.TypeCondition);
          const t = cond ? s.types.get(cond) : parent;
          if (!t) return fail(`Unknown type "${cond}".`);
          checkDirectives(item.Directives, 'INLINE_FRAGMENT');
          walk(item.SelectionSet, t);
        } else {
          const fname = str(item.Name);
          const frag = fragments.get(fname);
          if (!frag) return fail(`Unknown fragment "${fname}".`);
          usedFragments.add(fname);
          checkDirectives(item.Directives, 'FRAGMENT_SPREAD');
          if (seenFragments.has(fname)) return;
          seenFragments.add(fname);
          const t = s.types.get(str(frag.TypeCondition));
          if (!t) return fail(`Unknown type "${str(frag.TypeCondition)}".`);
          walk(frag.SelectionSet, t);
        }
      }
    };
    checkDirectives(op.Directives, str(op.Operation).toUpperCase());
    walk(op.SelectionSet, root);
    for (const vn of defined.keys()) {
      if (!used.has(vn)) fail(name ? `Variable "$${vn}" is never used in operation "${name}".` : `Variable "$${vn}" is never used.`);
    }
  }
  for (const f of fragments.keys()) if (!usedFragments.has(f)) fail(`Fragment "${f}" is never used.`);
}
