import type { Location } from '../ast';

/**
 * One step of an evaluation, for OPA's `explain` (a subset of topdown's trace events):
 * `enter` a rule, `exit` it with a value, `eval` a literal, `fail` when a literal has no
 * solution, `note` for each `trace(msg)` call. `depth` is the rule nesting (0: the query),
 * OPA's query/parent ids flattened.
 */
export interface TraceEvent {
  readonly op: 'enter' | 'exit' | 'eval' | 'fail' | 'note';
  readonly type: 'rule' | 'expr';
  readonly location: Location;
  readonly depth: number;
  /** The `trace()` message of a note. */
  readonly message?: string;
  /** The path (below data) of the rule an `enter`/`exit` is about. */
  readonly rule?: readonly string[];
}

export type Tracer = (event: TraceEvent) => void;
