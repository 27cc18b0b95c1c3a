import { describe, expect, it } from 'vitest';
import { call } from './harness';
import { RegoObject, parseJSON, toJSONText } from '../../src/value';

const schema = `
  type Query { hero(episode: Episode!): Character }
  enum Episode { NEWHOPE EMPIRE }
  interface Character { id: ID! name: String }
  type Droid implements Character { id: ID! name: String primaryFunction: String }
`;

describe('graphql', () => {
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
