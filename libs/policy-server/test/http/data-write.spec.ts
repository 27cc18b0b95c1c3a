import { describe, expect, it } from 'vitest';
import { OpaHttpError } from '../../src/opa/errors';
import { checkRuleConflicts, DataDraft } from '../../src/http/data-write';
import { checkPathScope, type ActiveBundle } from '../../src/store/bundle-scope';

function failure(f: () => unknown): { status: number; code: string; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof OpaHttpError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not fail');
}

const base = () => ({ a: { list: [1, 2, 3], obj: { k: 'v' } }, s: 'scalar' });

describe('DataDraft (OPA in-memory store semantics)', () => {
  it('writes copy-on-write: the base document is never changed, and unchanged subtrees are shared', () => {
    const data = base();
    const frozen = JSON.stringify(data);
    const draft = new DataDraft(data);
    draft.write('replace', ['a', 'obj', 'k'], 'w');
    draft.write('add', ['b'], { x: 1 });
    expect(JSON.stringify(data)).toBe(frozen);
    const out = draft.result() as { a: { list: unknown; obj: unknown }; b: unknown };
    expect(out).toEqual({ a: { list: [1, 2, 3], obj: { k: 'w' } }, s: 'scalar', b: { x: 1 } });
    expect(out.a.list).toBe(data.a.list);
  });

  it('applies array operations as OPA: add inserts, "-" or the length appends, remove shifts, replace sets', () => {
    const draft = new DataDraft(base());
    draft.write('add', ['a', 'list', '0'], 0);
    draft.write('add', ['a', 'list', '-'], 4);
    draft.write('add', ['a', 'list', '5'], 5);
    draft.write('remove', ['a', 'list', '1']);
    draft.write('replace', ['a', 'list', '0'], 'zero');
    expect(draft.read(['a', 'list'])).toEqual(['zero', 2, 3, 4, 5]);
  });

  it('answers missing documents, bad indexes and bad root writes with OPA storage errors', () => {
    const draft = new DataDraft(base());
    expect(failure(() => draft.read(['a', 'missing']))).toEqual({ status: 404, code: 'resource_not_found', message: 'storage_not_found_error: /a/missing: document does not exist' });
    expect(failure(() => draft.write('replace', ['a', 'missing'], 1)).message).toBe('storage_not_found_error: document does not exist');
    expect(failure(() => draft.write('add', ['nope', 'deeper'], 1)).status).toBe(404);
    expect(failure(() => draft.read(['a', 'list', 'x'])).message).toBe('storage_not_found_error: /a/list/x: array index must be integer');
    expect(failure(() => draft.write('replace', ['a', 'list', '9'], 1)).message).toBe('storage_not_found_error: /a/list/9: array index out of range');
    expect(failure(() => draft.write('replace', ['a', 'list', '-'], 1))).toEqual({
      status: 400,
      code: 'invalid_parameter',
      message: 'storage_invalid_patch_error: /a/list/-: invalid patch path',
    });
    expect(failure(() => draft.write('remove', []))).toEqual({ status: 400, code: 'invalid_parameter', message: 'storage_invalid_patch_error: root cannot be removed' });
    expect(failure(() => draft.write('add', [], [1])).message).toBe('storage_invalid_patch_error: root must be object');
  });

  it('makes missing parent objects for PUT, and refuses to go through a scalar (write conflict)', () => {
    const draft = new DataDraft(base());
    draft.makeDir(['x', 'y']);
    draft.write('add', ['x', 'y', 'z'], true);
    expect(draft.read(['x'])).toEqual({ y: { z: true } });
    expect(failure(() => draft.makeDir(['s', 't']))).toEqual({ status: 404, code: 'resource_conflict', message: 'storage_write_conflict_error: /s' });
  });
});

describe('writes and bundle roots (OPA checkPathScope)', () => {
  const gateway: ActiveBundle = { name: 'gateway', revision: 'r1', roots: [['gateway', 'authz'], ['shared']] };

  it('allows everything without bundles', () => {
    expect(() => checkPathScope([], [])).not.toThrow();
  });

  it('refuses the root, paths under a root and paths above one, naming the bundle as OPA does', () => {
    expect(failure(() => checkPathScope([], [gateway])).message).toBe("can't write to document root with bundle roots configured");
    expect(failure(() => checkPathScope(['gateway', 'authz', 'x'], [gateway]))).toEqual({
      status: 400,
      code: 'invalid_parameter',
      message: 'path gateway/authz/x is owned by bundle "gateway"',
    });
    expect(failure(() => checkPathScope(['gateway'], [gateway])).message).toBe('path gateway is owned by bundle "gateway"');
    expect(() => checkPathScope(['gateway', 'other'], [gateway])).not.toThrow();
    expect(() => checkPathScope(['elsewhere'], [gateway])).not.toThrow();
  });

  it('names the bundle that owns the path among several, and escapes segments as storage.Path prints them', () => {
    const other: ActiveBundle = { name: 'tenants/v2', revision: '', roots: [['tenants']] };
    expect(failure(() => checkPathScope(['tenants', 'a b/c'], [gateway, other])).message).toBe('path tenants/a%20b%2Fc is owned by bundle "tenants/v2"');
  });

  it('refuses every path when a bundle owns the whole document', () => {
    expect(failure(() => checkPathScope(['any'], [{ name: 'all', revision: '', roots: [[]] }])).message).toBe('all paths owned by bundle "all"');
  });
});

describe('data where a rule is defined (OPA CheckPathConflicts)', () => {
  it('refuses data at a rule path, or a scalar above one, and accepts data beside rules', () => {
    const rules = [['p', 'allow']];
    expect(() => checkRuleConflicts(new DataDraft({ p: { other: 1 } }), rules)).not.toThrow();
    expect(failure(() => checkRuleConflicts(new DataDraft({ p: { allow: false } }), rules))).toEqual({
      status: 400,
      code: 'invalid_parameter',
      message: '1 error occurred: rego_compile_error: conflicting rule for data path p/allow found',
    });
    expect(failure(() => checkRuleConflicts(new DataDraft({ p: 'scalar' }), rules)).status).toBe(400);
  });
});
