import { describe, expect, it } from 'vitest';
import { call, check, rowName, type Row } from './harness';
import { RegoObject, parseJSON, toJSONText } from '../../src/value';

const schema = `
  type Query { hero(episode: Episode!): Character }
  enum Episode { NEWHOPE EMPIRE }
  interface Character { id: ID! name: String }
  type Droid implements Character { id: ID! name: String primaryFunction: String }
`;

const BUILTIN = 'eval_builtin_error';
/** Operands as JSON text, so GraphQL sources are written without a second layer of escapes. */
const q = (src: string): string => JSON.stringify([src]);
const at = (msg: string, loc: string): { error: string; code: string } => ({ error: `graphql.parse_query: ${msg} in GraphQL string at location ${loc}`, code: BUILTIN });

/** gqlparser's query grammar (parser/query.go) and where its errors point. */
const queries: Row[] = [
  // Fragment definitions take variable definitions between their name and type condition.
  [
    'graphql.parse_query',
    q('fragment a($v: Boolean = false, $w: [Int!]! @d) on t { f(v: $v) }'),
    `{"Fragments": [{"Name": "a", "TypeCondition": "t",
      "SelectionSet": [{"Alias": "f", "Name": "f", "Arguments": [{"Name": "v", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "v"}}]}],
      "VariableDefinition": [
        {"DefaultValue": {"ExpectedTypeHasDefault": false, "Kind": 5, "Raw": "false"}, "Type": {"NamedType": "Boolean", "NonNull": false}, "Used": false, "Variable": "v"},
        {"Directives": [{"Location": "", "Name": "d"}], "Type": {"Elem": {"NamedType": "Int", "NonNull": true}, "NamedType": "", "NonNull": true}, "Used": false, "Variable": "w"}]}]}`,
  ],
  ['graphql.parse_query', q('fragment a($v: Int = $x) on t { f }'), at('Unexpected $', '1:22')],
  ['graphql.parse_query', q('fragment a($v Int) on t { f }'), at('Expected :, found Name', '1:15')],
  ['graphql.parse_query', q('fragment a(v: Int) on t { f }'), at('Expected $, found Name', '1:12')],
  ['graphql.parse_query', q('fragment a on t'), at('Expected {, found <EOF>', '1:16')],
  ['graphql.parse_query', q('fragment on on on { on }'), at('Unexpected Name "on"', '1:10')],
  ['graphql.parse_query', q('{ ...MissingOn }\nfragment MissingOn Type'), at('Expected "on", found Name "Type"', '2:20')],
  // Inside a selection set the next selection is parsed whatever comes, so a premature end is a missing Name.
  ['graphql.parse_query', q('{'), at('Expected Name, found <EOF>', '1:2')],
  ['graphql.parse_query', q('{ a { b '), at('Expected Name, found <EOF>', '1:9')],
  ['graphql.parse_query', q('{ field: {} }'), at('Expected Name, found {', '1:10')],
  ['graphql.parse_query', q('{ ...on }'), at('Expected Name, found }', '1:9')],
  ['graphql.parse_query', q('{ f(a: [1, 2) }'), at('Unexpected )', '1:13')],
  ['graphql.parse_query', q('query Q'), at('Expected {, found <EOF>', '1:8')],
  ['graphql.parse_query', q('{}'), at('expected at least one definition, found }', '1:2')],
  ['graphql.parse_query', q('{__typename{...}}'), at('Expected {, found }', '1:16')],
  ['graphql.parse_query', q('{...{__typename{...{}}}}'), at('expected at least one definition, found }', '1:21')],
  ['graphql.parse_query', q('notanoperation Foo { field }'), at('Unexpected Name "notanoperation"', '1:1')],
  // Messages keep gqlparser's punctuation: the spread token prints as "...".
  ['graphql.parse_query', q('...'), at('Unexpected ...', '1:1')],
  ['graphql.parse_query', q('query Foo($x: Complex = { a: { b: [ $var ] } }) { field }'), at('Unexpected $', '1:37')],
  // Lexer failures become an Invalid token placed where gqlparser's scan stopped.
  ['graphql.parse_query', q("{ f(a: 'x') }"), at('Unexpected <Invalid>', '1:8')],
  ['graphql.parse_query', q('{ f(a: -x) }'), at('Unexpected <Invalid>', '1:9')],
  ['graphql.parse_query', q('{ f(a: 00) }'), at('Unexpected <Invalid>', '1:9')],
  ['graphql.parse_query', q('{ f(a: "x\ny") }'), at('Unexpected <Invalid>', '1:10')],
  ['graphql.parse_query', q('{ f(a: "\\q") }'), at('Unexpected <Invalid>', '1:10')],
  ['graphql.parse_query', q('{ f }\n  ?'), at('Unexpected <Invalid>', '2:3')],
  // gqlparser's block strings count the first line in the common indent (the spec does not).
  [
    'graphql.parse_query',
    q('{ f(a: """abc\n    def""", b: """\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \t """) }'),
    `{"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f", "Name": "f", "Arguments": [
      {"Name": "a", "Value": {"ExpectedTypeHasDefault": false, "Kind": 4, "Raw": "abc\\n    def"}},
      {"Name": "b", "Value": {"ExpectedTypeHasDefault": false, "Kind": 4, "Raw": "Hello,\\n  World!\\n\\nYours,\\n  GraphQL."}}]}]}]}`,
  ],
  // Columns count code points, as gqlparser counts runes; a selection expects a Name, even where the lexer failed.
  ['graphql.parse_query', q('{ f(a: "😀") ?'), at('Expected Name, found <Invalid>', '1:13')],
  [
    'graphql.parse_query',
    q('{ f(obj: {key: "value", block: """\n    uses \\"""\n  """}) ... @skip(if: $x) { id } }'),
    `{"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [
      {"Alias": "f", "Name": "f", "Arguments": [{"Name": "obj", "Value": {"Children": [
        {"Name": "key", "Value": {"ExpectedTypeHasDefault": false, "Kind": 3, "Raw": "value"}},
        {"Name": "block", "Value": {"ExpectedTypeHasDefault": false, "Kind": 4, "Raw": "uses \\"\\"\\""}}], "ExpectedTypeHasDefault": false, "Kind": 9, "Raw": ""}}]},
      {"Directives": [{"Arguments": [{"Name": "if", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "x"}}], "Location": "", "Name": "skip"}],
       "SelectionSet": [{"Alias": "id", "Name": "id"}], "TypeCondition": ""}]}]}`,
  ],
];

const schemaAt = (msg: string, loc: string): { error: string; code: string } => ({ error: `graphql.parse_schema: ${msg} in GraphQL string at location ${loc}`, code: BUILTIN });

/** gqlparser's schema grammar (parser/schema.go) where it differs from the obvious reading. */
const schemas: Row[] = [
  // An operation type is whatever token comes next, judged by its value.
  ['graphql.parse_schema', q('schema { 5: Query }'), schemaAt('Unexpected Int "5"', '1:10')],
  ['graphql.parse_schema', q('extend schema { query Q }'), schemaAt('Expected :, found Name', '1:23')],
  // Interface extensions have no implements clause; object extensions do.
  ['graphql.parse_schema', q('extend interface I implements J { f: Int }'), schemaAt('Unexpected Name "implements"', '1:20')],
  ['graphql.parse_schema', q('extend type T implements J'), '{"Extensions": [{"BuiltIn": false, "Description": "", "Interfaces": ["J"], "Kind": "OBJECT", "Name": "T"}]}'],
  // Extensions dispatch on the token's value, then expect the keyword as a Name.
  ['graphql.parse_schema', q('extend "type" T'), schemaAt('Expected "type", found String "type"', '1:9')],
  ['graphql.parse_schema', q('type T { f(): Int }'), schemaAt('expected at least one definition, found )', '1:12')],
  ['graphql.parse_schema', q('type T { f: Int'), schemaAt('Expected Name, found <EOF>', '1:16')],
];

describe('graphql', () => {
  it.each(schemas.map((r) => [rowName(r), r] as const))('%s', (_, r) => check(r));

  it.each(queries.map((r) => [rowName(r), r] as const))('%s', (_, r) => check(r));


  it('parses schemas into gqlparser-shaped, pruned ASTs', () => {
    const ast = call('graphql.parse_schema', ['type Hello { world: String }']);
    expect(toJSONText(ast!)).toBe(
      toJSONText(
        parseJSON(
          '{"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name": "world", "Type": {"NamedType": "String", "NonNull": false}}], "Kind": "OBJECT", "Name": "Hello"}]}',
        ),
      ),
    );
  });

  it('parses queries with arguments, variables and fragments', () => {
    const ast = call('graphql.parse_query', ['query H($ep: Episode!) { hero(episode: $ep) { name ... on Droid { primaryFunction } } }']) as RegoObject;
    const op = (ast.get('Operations') as RegoObject[])[0]!;
    expect(op.get('Name')).toBe('H');
    expect(toJSONText(op.get('VariableDefinitions')!)).toBe('[{"Type":{"NamedType":"Episode","NonNull":true},"Used":false,"Variable":"ep"}]');
  });

  it('reports syntax errors with gqlparser wording and position', () => {
    expect(() => call('graphql.parse_schema', ['type Hello {}'])).toThrow('expected at least one definition, found } in GraphQL string at location 1:13');
    expect(() => call('graphql.parse_schema', ['union U = | | A'])).toThrow('Expected Name, found | in GraphQL string at location 1:13');
  });

  it('validates schemas', () => {
    expect(call('graphql.schema_is_valid', [schema])).toBe(true);
    expect(call('graphql.schema_is_valid', ['union U = Missing'])).toBe(false);
    expect(call('graphql.schema_is_valid', ['type A implements I { x: Int } interface I { y: Int }'])).toBe(false);
  });

  it('validates queries against a schema', () => {
    expect(call('graphql.is_valid', ['{ hero(episode: EMPIRE) { name } }', schema])).toBe(true);
    expect(call('graphql.is_valid', ['{ hero { name } }', schema])).toBe(false);
    expect(call('graphql.is_valid', ['{ hero(episode: EMPIRE) { nope } }', schema])).toBe(false);
    expect(call('graphql.is_valid', ['query Q($x: Int) { hero(episode: EMPIRE) { name } }', schema])).toBe(false);
    expect(() => call('graphql.parse', ['{ hero { name } }', schema])).toThrow(
      'Field "hero" argument "episode" of type "Episode!" is required, but it was not provided in GraphQL string at location 1:3',
    );
    const [ok] = call('graphql.parse_and_verify', ['{ hero(episode: EMPIRE) { id } }', schema]) as unknown[];
    expect(ok).toBe(true);
  });
});
