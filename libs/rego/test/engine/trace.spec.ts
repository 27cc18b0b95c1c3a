import { describe, expect, it } from 'vitest';
import { compileModules, type TraceEvent } from '../../src/index';

const SOURCE = `package p

allow if {
  trace("checking the user")
  input.user == data.users.admin
}

names contains n if {
  some n in data.users.all
  n != "root"
}
`;

const DATA = { users: { admin: 'alice', all: ['alice', 'root'] } };

function traced(run: (trace: (e: TraceEvent) => void) => unknown): { out: unknown; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const out = run((e) => events.push(e));
  return { out, events };
}

const brief = (events: readonly TraceEvent[]) => events.map((e) => `${e.depth} ${e.op} ${e.location.file}:${e.location.row}${e.message ? ` ${e.message}` : ''}`);

describe('evaluation traces (explain)', () => {
  const set = compileModules([{ file: 'p.rego', source: SOURCE }]);

  it('records the rule entered, each literal evaluated, the trace() note and the failing literal', () => {
    const { out, events } = traced((trace) => set.evaluate(['p', 'allow'], { input: { user: 'bob' }, data: DATA, trace }));
    expect(out).toEqual({ defined: false });
    expect(brief(events)).toEqual([
      '0 enter p.rego:3',
      '1 eval p.rego:4',
      '1 note p.rego:4 checking the user',
      '1 eval p.rego:5',
      '1 fail p.rego:5',
    ]);
    expect(events[0]!.rule).toEqual(['p', 'allow']);
  });

  it('records exit when the rule produces its value', () => {
    const { out, events } = traced((trace) => set.evaluate(['p', 'allow'], { input: { user: 'alice' }, data: DATA, trace }));
    expect(out).toEqual({ defined: true, result: true });
    expect(brief(events).slice(-1)).toEqual(['0 exit p.rego:3']);
  });

  it('traces a rule again on every traced evaluation, although untraced ones share its value', () => {
    // names depends on data only: untraced evaluations reuse its value across calls.
    expect(set.evaluate(['p', 'names'], { data: DATA })).toEqual({ defined: true, result: ['alice'] });
    const first = traced((trace) => set.evaluate(['p', 'names'], { data: DATA, trace }));
    const second = traced((trace) => set.evaluate(['p', 'names'], { data: DATA, trace }));
    expect(brief(first.events)).toEqual(brief(second.events));
    expect(brief(first.events)).toContain('1 fail p.rego:10');
  });

  it('traces the literals of an ad-hoc query at depth 0', () => {
    const { out, events } = traced((trace) => set.query('x := data.p.allow; trace("done")', { input: { user: 'alice' }, data: DATA, trace }));
    expect(out).toEqual([{ x: true }]);
    expect(brief(events)).toEqual([
      '0 eval query:1',
      '0 enter p.rego:3',
      '1 eval p.rego:4',
      '1 note p.rego:4 checking the user',
      '1 eval p.rego:5',
      '0 exit p.rego:3',
      '0 eval query:1',
      '0 note query:1 done',
    ]);
  });

  it('lists the rules that define documents', () => {
    expect(set.rulePaths()).toEqual([
      ['p', 'allow'],
      ['p', 'names'],
    ]);
  });
});
