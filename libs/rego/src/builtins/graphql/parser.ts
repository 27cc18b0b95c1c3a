/**
 * GraphQL schema and query parsers (gqlparser's grammar and error texts). The AST is plain
 * JSON in gqlparser's field names, ready to be pruned into OPA's answer shape.
 */
import { GraphQLError, kindString, tokenString, tokenize, type Kind, type Token } from './lexer';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const LOCATIONS = new Set([
  'QUERY', 'MUTATION', 'SUBSCRIPTION', 'FIELD', 'FRAGMENT_DEFINITION', 'FRAGMENT_SPREAD', 'INLINE_FRAGMENT',
  'VARIABLE_DEFINITION', 'SCHEMA', 'SCALAR', 'OBJECT', 'FIELD_DEFINITION', 'ARGUMENT_DEFINITION', 'INTERFACE',
  'UNION', 'ENUM', 'ENUM_VALUE', 'INPUT_OBJECT', 'INPUT_FIELD_DEFINITION',
]);

/** Source positions of AST nodes, kept aside so they never reach the answer. */
export const positions = new WeakMap<object, { line: number; col: number }>();

const VALUE_KIND = { Variable: 0, Int: 1, Float: 2, String: 3, Block: 4, Boolean: 5, Null: 6, Enum: 7, List: 8, Object: 9 };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  peek(): Token {
    return this.toks[this.pos]!;
  }
  next(): Token {
    const t = this.toks[this.pos]!;
    // Consuming a token the lexer rejected surfaces the lexer's own message (gqlparser's next()).
    if (t.kind === 'Invalid') this.fail(t, t.error ?? `Unexpected ${tokenString(t)}`);
    if (t.kind !== 'EOF') this.pos++;
    return t;
  }
  fail(t: Token, msg: string): never {
    throw new GraphQLError(msg, t.line, t.col);
  }
  unexpected(t: Token = this.peek()): never {
    return this.fail(t, `Unexpected ${tokenString(t)}`);
  }
  expect(kind: Kind): Token {
    const t = this.peek();
    if (t.kind !== kind) this.fail(t, `Expected ${kindString(kind)}, found ${kindString(t.kind)}`);
    return this.next();
  }
  expectKeyword(word: string): Token {
    const t = this.peek();
    if (t.kind === 'Name' && t.value === word) return this.next();
    return this.fail(t, `Expected "${word}", found ${tokenString(t)}`);
  }
  skip(kind: Kind): boolean {
    if (this.peek().kind !== kind) return false;
    this.next();
    return true;
  }
  /**
   * One or more items between delimiters (gqlparser's `some`). Items are parsed until the end
   * delimiter whatever comes, so a premature end fails inside the item ("Expected Name, found
   * <EOF>"), as gqlparser reports it.
   */
  some<T>(start: Kind, end: Kind, item: () => T): T[] {
    if (!this.skip(start)) return [];
    const out: T[] = [];
    while (this.peek().kind !== end) out.push(item());
    if (out.length === 0) this.fail(this.peek(), `expected at least one definition, found ${kindString(this.peek().kind)}`);
    this.next();
    return out;
  }
  /** Zero or more items between delimiters (gqlparser's `many`). */
  many<T>(start: Kind, end: Kind, item: () => T): T[] {
    if (!this.skip(start)) return [];
    const out: T[] = [];
    while (this.peek().kind !== end) out.push(item());
    this.next();
    return out;
  }
  name(): string {
    return this.expect('Name').value;
  }
  description(): string {
    const t = this.peek();
    if (t.kind === 'String' || t.kind === 'BlockString') return this.next().value;
    return '';
  }

  // ---- shared ----
  typeRef(): Obj {
    if (this.skip('[')) {
      const elem = this.typeRef();
      this.expect(']');
      return { NamedType: '', Elem: elem, NonNull: this.skip('!') };
    }
    const n = this.name();
    return { NamedType: n, Elem: null, NonNull: this.skip('!') };
  }
  value(isConst: boolean): Obj {
    const t = this.peek();
    const v = (kind: number, raw: string, children: Json = null): Obj => ({
      Raw: raw,
      Children: children,
      Kind: kind,
      Definition: null,
      VariableDefinition: null,
      ExpectedType: null,
      ExpectedTypeHasDefault: false,
    });
    switch (t.kind) {
      case '[':
        return v(VALUE_KIND.List, '', this.many('[', ']', () => ({ Name: '', Value: this.value(isConst) })));
      case '{':
        return v(
          VALUE_KIND.Object,
          '',
          this.many('{', '}', () => {
            const n = this.name();
            this.expect(':');
            return { Name: n, Value: this.value(isConst) };
          }),
        );
      case 'Int':
        this.next();
        return v(VALUE_KIND.Int, t.value);
      case 'Float':
        this.next();
        return v(VALUE_KIND.Float, t.value);
      case 'String':
        this.next();
        return v(VALUE_KIND.String, t.value);
      case 'BlockString':
        this.next();
        return v(VALUE_KIND.Block, t.value);
      case '$':
        if (!isConst) {
          this.next();
          return v(VALUE_KIND.Variable, this.name());
        }
        break;
      case 'Name':
        this.next();
        if (t.value === 'true' || t.value === 'false') return v(VALUE_KIND.Boolean, t.value);
        if (t.value === 'null') return v(VALUE_KIND.Null, t.value);
        return v(VALUE_KIND.Enum, t.value);
    }
    return this.unexpected();
  }
  arguments(isConst: boolean): Obj[] {
    return this.many('(', ')', () => {
      const n = this.name();
      this.expect(':');
      return { Name: n, Value: this.value(isConst) };
    });
  }
  directives(isConst: boolean): Obj[] {
    const out: Obj[] = [];
    while (this.peek().kind === '@') {
      this.next();
      out.push({ Name: this.name(), Arguments: this.arguments(isConst), ParentDefinition: null, Definition: null, Location: '' });
    }
    return out;
  }

  // ---- schema ----
  schemaDocument(): Obj {
    const doc: Obj = { Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [] };
    while (this.peek().kind !== 'EOF') {
      const desc = this.description();
      const t = this.peek();
      if (t.kind !== 'Name') this.unexpected();
      switch (t.value) {
        case 'scalar':
        case 'type':
        case 'interface':
        case 'union':
        case 'enum':
        case 'input':
          (doc.Definitions as Json[]).push(this.typeDefinition(desc, false));
          break;
        case 'schema':
          this.next();
          (doc.Schema as Json[]).push(this.schemaDefinition(desc, false));
          break;
        case 'directive':
          (doc.Directives as Json[]).push(this.directiveDefinition(desc));
          break;
        case 'extend': {
          if (desc !== '') this.unexpected(this.toks[this.pos - 1]);
          this.next();
          // Like gqlparser, dispatch on the value alone; the keyword is then expected as a Name.
          const k = this.peek();
          if (k.value === 'schema') {
            this.expectKeyword('schema');
            (doc.SchemaExtension as Json[]).push(this.schemaDefinition('', true));
          } else if (['scalar', 'type', 'interface', 'union', 'enum', 'input'].includes(k.value)) {
            (doc.Extensions as Json[]).push(this.typeDefinition('', true));
          } else this.unexpected();
          break;
        }
        default:
          this.unexpected();
      }
    }
    return doc;
  }
  schemaDefinition(desc: string, extension: boolean): Obj {
    const at = this.peek();
    const directives = this.directives(true);
    const ops = this.some('{', '}', () => {
      // gqlparser's parseOperationType takes whatever token comes, then judges its value.
      const op = this.next();
      if (!['query', 'mutation', 'subscription'].includes(op.value)) this.unexpected(op);
      this.expect(':');
      return { Operation: op.value, Type: this.name() } as Obj;
    });
    if (extension && directives.length === 0 && ops.length === 0) this.unexpected(at);
    return { Description: desc, Directives: directives, OperationTypes: ops };
  }
  fieldDefinition(input: boolean): Obj {
    const desc = this.description();
    const n = this.name();
    const args = input ? [] : this.argumentDefs();
    this.expect(':');
    const type = this.typeRef();
    const dflt = input && this.skip('=') ? this.value(true) : null;
    return { Description: desc, Name: n, Arguments: args, DefaultValue: dflt, Type: type, Directives: this.directives(true) };
  }
  argumentDefs(): Obj[] {
    return this.some('(', ')', () => {
      const desc = this.description();
      const n = this.name();
      this.expect(':');
      const type = this.typeRef();
      const dflt = this.skip('=') ? this.value(true) : null;
      return { Description: desc, Name: n, DefaultValue: dflt, Type: type, Directives: this.directives(true) };
    });
  }
  implementsInterfaces(): string[] {
    const out: string[] = [];
    if (this.peek().kind === 'Name' && this.peek().value === 'implements') {
      this.next();
      this.skip('&');
      out.push(this.name());
      while (this.skip('&')) out.push(this.name());
    }
    return out;
  }
  typeDefinition(desc: string, extension: boolean): Obj {
    const kw = this.peek().value;
    this.expectKeyword(kw);
    const def: Obj = { Kind: '', Description: desc, Name: '', Directives: [], Interfaces: [], Fields: [], Types: [], EnumValues: [], BuiltIn: false };
    def.Name = this.name();
    switch (kw) {
      case 'scalar':
        def.Kind = 'SCALAR';
        def.Directives = this.directives(true);
        if (extension && (def.Directives as Json[]).length === 0) this.unexpected();
        break;
      case 'type':
      case 'interface':
        def.Kind = kw === 'type' ? 'OBJECT' : 'INTERFACE';
        // gqlparser's interface extensions take no implements clause.
        def.Interfaces = kw === 'interface' && extension ? [] : this.implementsInterfaces();
        def.Directives = this.directives(true);
        def.Fields = this.some('{', '}', () => this.fieldDefinition(false));
        if (extension && (def.Interfaces as Json[]).length + (def.Directives as Json[]).length + (def.Fields as Json[]).length === 0) this.unexpected();
        break;
      case 'union':
        def.Kind = 'UNION';
        def.Directives = this.directives(true);
        if (this.skip('=')) {
          this.skip('|');
          const types = [this.name()];
          while (this.skip('|')) types.push(this.name());
          def.Types = types;
        }
        if (extension && (def.Directives as Json[]).length + (def.Types as Json[]).length === 0) this.unexpected();
        break;
      case 'enum':
        def.Kind = 'ENUM';
        def.Directives = this.directives(true);
        def.EnumValues = this.some('{', '}', () => {
          const d = this.description();
          return { Description: d, Name: this.name(), Directives: this.directives(true) } as Obj;
        });
        if (extension && (def.Directives as Json[]).length + (def.EnumValues as Json[]).length === 0) this.unexpected();
        break;
      case 'input':
        def.Kind = 'INPUT_OBJECT';
        def.Directives = this.directives(!extension);
        def.Fields = this.some('{', '}', () => this.fieldDefinition(true));
        if (extension && (def.Directives as Json[]).length + (def.Fields as Json[]).length === 0) this.unexpected();
        break;
    }
    return def;
  }
  directiveDefinition(desc: string): Obj {
    this.expectKeyword('directive');
    this.expect('@');
    const n = this.name();
    const args = this.argumentDefs();
    let repeatable = false;
    if (this.peek().kind === 'Name' && this.peek().value === 'repeatable') {
      this.next();
      repeatable = true;
    }
    this.expectKeyword('on');
    this.skip('|');
    const locs: string[] = [];
    const loc = (): void => {
      const t = this.expect('Name');
      if (!LOCATIONS.has(t.value)) this.unexpected(t);
      locs.push(t.value);
    };
    loc();
    while (this.skip('|')) loc();
    return { Description: desc, Name: n, Arguments: args, Locations: locs, IsRepeatable: repeatable };
  }

  // ---- query (gqlparser's parser/query.go) ----
  queryDocument(): Obj {
    const doc: Obj = { Operations: [], Fragments: [] };
    while (this.peek().kind !== 'EOF') {
      const t = this.peek();
      if (t.kind === '{') (doc.Operations as Json[]).push(this.operation());
      else if (t.kind === 'Name' && ['query', 'mutation', 'subscription'].includes(t.value)) (doc.Operations as Json[]).push(this.operation());
      else if (t.kind === 'Name' && t.value === 'fragment') (doc.Fragments as Json[]).push(this.fragmentDefinition());
      else this.unexpected();
    }
    return doc;
  }
  operation(): Obj {
    if (this.peek().kind === '{') {
      return { Operation: 'query', Name: '', VariableDefinitions: [], Directives: [], SelectionSet: this.requiredSelectionSet() };
    }
    const op = this.next().value;
    const n = this.peek().kind === 'Name' ? this.next().value : '';
    const vars = this.variableDefinitions();
    return { Operation: op, Name: n, VariableDefinitions: vars, Directives: this.directives(false), SelectionSet: this.requiredSelectionSet() };
  }
  /** Shared by operations and fragment definitions (gqlparser's parseVariableDefinitions). */
  variableDefinitions(): Obj[] {
    return this.many('(', ')', () => {
      this.expect('$');
      const v = this.name();
      this.expect(':');
      const type = this.typeRef();
      const dflt = this.skip('=') ? this.value(true) : null;
      return { Variable: v, Type: type, DefaultValue: dflt, Directives: this.directives(false), Definition: null, Used: false } as Obj;
    });
  }
  /** Operations, inline fragments and fragment definitions must have a selection set. */
  requiredSelectionSet(): Obj[] {
    const t = this.peek();
    if (t.kind !== '{') this.fail(t, `Expected {, found ${kindString(t.kind)}`);
    return this.some('{', '}', () => this.selection());
  }
  selection(): Obj {
    const at = this.peek();
    const node = this.selectionNode();
    positions.set(node, { line: at.line, col: at.col });
    return node;
  }
  selectionNode(): Obj {
    if (this.peek().kind !== '...') {
      const alias = this.name();
      const n = this.skip(':') ? this.name() : alias;
      const args = this.arguments(false);
      const dirs = this.directives(false);
      const sel = this.peek().kind === '{' ? this.some('{', '}', () => this.selection()) : [];
      return { Alias: alias, Name: n, Arguments: args, Directives: dirs, SelectionSet: sel, Definition: null, ObjectDefinition: null };
    }
    this.expect('...');
    const t = this.peek();
    if (t.kind === 'Name' && t.value !== 'on') {
      return { Name: this.fragmentName(), Directives: this.directives(false), ObjectDefinition: null, Definition: null };
    }
    let cond = '';
    // gqlparser tests the value alone here, so any token spelled "on" opens a type condition.
    if (t.value === 'on') {
      this.next();
      cond = this.name();
    }
    return { TypeCondition: cond, Directives: this.directives(false), SelectionSet: this.requiredSelectionSet(), ObjectDefinition: null };
  }
  fragmentName(): string {
    if (this.peek().value === 'on') this.unexpected();
    return this.name();
  }
  fragmentDefinition(): Obj {
    this.expectKeyword('fragment');
    const n = this.fragmentName();
    const vars = this.variableDefinitions();
    this.expectKeyword('on');
    const cond = this.name();
    return { Name: n, VariableDefinition: vars, TypeCondition: cond, Directives: this.directives(false), SelectionSet: this.requiredSelectionSet(), Definition: null };
  }
}

export function parseSchemaText(src: string): Obj {
  return new Parser(tokenize(src)).schemaDocument();
}

export function parseQueryText(src: string): Obj {
  return new Parser(tokenize(src)).queryDocument();
}
