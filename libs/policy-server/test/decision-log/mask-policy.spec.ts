import { describe, expect, it } from 'vitest';
import { compileModules } from '@cloud-stack/rego';
import { applyMaskRules, maskPolicy, MaskRuleError, parseMaskRuleSet } from '../../src/decision-log/mask-policy';
import type { DecisionLogEntry } from '../../src/decision-log/types';
import type { PolicySnapshot } from '../../src/store/policy-store';

const entry = (over: Partial<DecisionLogEntry> = {}): DecisionLogEntry => ({
  labels: { id: 'i', app: 'policy-sidecar', version: '0' },
  decision_id: 'd1',
  path: 'app/allow',
  input: { user: 'alice', password: 'pw', card: { number: '4111', cvv: '123' }, list: ['a', 'b', 'c'] },
  result: { allow: true, secret: 's' },
  requested_by: '127.0.0.1:1',
  timestamp: '2026-01-01T00:00:00.000Z',
  metrics: { timer_server_handler_ns: 1 },
  ...over,
});

function snapshotOf(source: string, data: Record<string, unknown> = {}): PolicySnapshot {
  const set = compileModules([{ file: 'mask.rego', source }]);
  return { revision: 1, set, data, modules: new Map(), activatedAt: '', bundles: [] };
}

describe('mask rule sets (OPA plugins/logs/mask.go)', () => {
  it('refuses what OPA refuses, so the event is dropped rather than shipped unmasked', () => {
    const cases: [unknown, string][] = [
      ['/input/x', 'unexpected rule format "/input/x"'],
      [['input/x'], 'mask must be slash-prefixed'],
      [[''], 'mask must be non-empty'],
      [['/labels/id'], 'mask prefix not allowed: labels'],
      [[{ op: 'replace', path: '/input/x' }], 'mask op is not supported: replace'],
      [[{ path: '/input/x' }], 'mask op is not supported: '],
      [[{ op: 'remove', path: 7 }], 'invalid "path" value: 7'],
      [[3], 'invalid mask rule format encountered: number'],
      [['/input/%zz'], 'invalid URL escape "%zz"'],
    ];
    for (const [value, message] of cases) expect(() => parseMaskRuleSet(value)).toThrow(new MaskRuleError(message));
  });

  it('erases fields, array elements and whole documents, listing only what was there under erased', () => {
    const rules = parseMaskRuleSet(['/input/password', '/input/card/cvv', '/input/list/1', '/input/missing', '/result']);
    const original = entry();
    const masked = applyMaskRules(rules, original);
    expect(masked.input).toEqual({ user: 'alice', card: { number: '4111' }, list: ['a', 'c'] });
    expect(masked.result).toBeUndefined();
    expect(masked.erased).toEqual(['/input/password', '/input/card/cvv', '/input/list/1', '/result']);
    expect(masked.masked).toBeUndefined();
    // The request's own objects are never changed.
    expect(original.input).toEqual(entry().input);
    expect(original.result).toEqual({ allow: true, secret: 's' });
  });

  it('upserts values, making the objects on the way, and lists them under masked', () => {
    const rules = parseMaskRuleSet([
      { op: 'upsert', path: '/input/card/number', value: '****' },
      { op: 'upsert', path: '/input/added/deep', value: 1 },
      { op: 'upsert', path: '/input/user/x', value: 2 },
      { op: 'upsert', path: '/result/secret' },
      { op: 'remove', path: '/input/password' },
    ]);
    const masked = applyMaskRules(rules, entry({ erased: ['/input/token'] }));
    expect(masked.input).toEqual({ user: 'alice', card: { number: '****', cvv: '123' }, list: ['a', 'b', 'c'], added: { deep: 1 } });
    // A missing value is Go's nil: the field becomes null.
    expect(masked.result).toEqual({ allow: true, secret: null });
    expect(masked.masked).toEqual(['/input/card/number', '/input/added/deep', '/result/secret']);
    expect(masked.erased).toEqual(['/input/token', '/input/password']);
  });

  it('leaves an entry without input or result alone for rules on them', () => {
    const e = entry({ input: undefined, result: undefined });
    expect(applyMaskRules(parseMaskRuleSet(['/input/password', { op: 'upsert', path: '/result', value: 1 }]), e)).toBe(e);
  });
});

describe('the mask policy (data.system.log.mask)', () => {
  const errors: unknown[] = [];
  const policy = maskPolicy({ path: '/system/log/mask', timeoutMs: 1000, onError: (err) => errors.push(err) });

  it('is not evaluated at all when the revision has no mask policy', () => {
    expect(policy(snapshotOf('package app\n\nallow := true\n'))).toBeUndefined();
  });

  it('decides with the event as input: path, input and result', () => {
    const mask = policy(
      snapshotOf(`package system.log

mask contains "/input/password"

mask contains {"op": "upsert", "path": "/input/card/number", "value": "****"} if input.input.card

mask contains "/result/secret" if input.path == "app/allow"

mask contains "/input/user" if input.metrics
`),
    )!;
    const masked = mask(entry())!;
    expect(masked.input).toEqual({ user: 'alice', card: { number: '****', cvv: '123' }, list: ['a', 'b', 'c'] });
    expect(masked.result).toEqual({ allow: true });
    expect(masked.erased).toEqual(['/input/password', '/result/secret']);
    expect(masked.masked).toEqual(['/input/card/number']);
    expect(mask(entry({ path: 'other' }))!.result).toEqual({ allow: true, secret: 's' });
  });

  it('drops the entry, and says why, when the policy fails or answers rules OPA refuses', () => {
    errors.length = 0;
    const conflict = policy(snapshotOf('package system.log\n\nmask := ["/input/a"] if input.path\n\nmask := ["/input/b"] if input.decision_id\n'))!;
    expect(conflict(entry())).toBeUndefined();
    const refused = policy(snapshotOf('package system.log\n\nmask contains "/labels/id"\n'))!;
    expect(refused(entry())).toBeUndefined();
    expect(errors).toHaveLength(2);
    expect(errors[1]).toEqual(new MaskRuleError('mask prefix not allowed: labels'));
  });

  it('reads a mask given as base data, and follows decision_logs.mask_decision', () => {
    const fromData = policy(snapshotOf('package app\n\nallow := true\n', { system: { log: { mask: ['/input/user'] } } }))!;
    expect(fromData(entry())!.erased).toEqual(['/input/user']);
    const custom = maskPolicy({ path: '/audit/mask', timeoutMs: 1000, onError: () => undefined });
    expect(custom(snapshotOf('package system.log\n\nmask contains "/input/user"\n'))).toBeUndefined();
    expect(custom(snapshotOf('package audit\n\nmask contains "/input/user"\n'))!(entry())!.erased).toEqual(['/input/user']);
  });
});
