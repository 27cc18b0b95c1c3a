import type { TraceEvent } from '@cloud-stack/rego';
import { Ordered } from '../opa/json';
import type { Query } from './respond';

/** `?explain=` values OPA accepts (getExplain: the first one it knows wins). */
export type ExplainMode = 'notes' | 'fails' | 'full' | 'debug';
const MODES: ReadonlySet<string> = new Set(['notes', 'fails', 'full', 'debug']);

export function explainMode(query: Query): ExplainMode | undefined {
  const v = query.explain;
  for (const s of Array.isArray(v) ? v : [v]) if (typeof s === 'string' && MODES.has(s)) return s as ExplainMode;
  return undefined;
}

/** Where the text of an event's node comes from: a module's source by file, or the query. */
export type SourceOf = (file: string) => string | undefined;

/**
 * Collects one evaluation's trace. The query itself is an `enter`/`eval` at depth -1 (OPA's
 * outer query: `Enter data.a.b = _`), so that notes and fails get it as context like OPA's.
 */
export class TraceBuffer {
  readonly events: TraceEvent[] = [];
  readonly record = (e: TraceEvent): void => {
    this.events.push(e);
  };

  /**
   * A trace that starts with the outer query's `Enter` (and its `| Eval` for the Data API's
   * one-ref query; the engine traces the literals of an ad-hoc query itself).
   */
  static forQuery(evalRef: boolean): TraceBuffer {
    const buffer = new TraceBuffer();
    buffer.record({ op: 'enter', type: 'expr', location: QUERY_LOCATION, depth: -1 });
    if (evalRef) buffer.record({ op: 'eval', type: 'expr', location: QUERY_LOCATION, depth: 0 });
    return buffer;
  }

  /** The outer query's outcome (OPA's `Exit`, or `Fail` when it had no result). */
  finish(defined: boolean): void {
    this.record({ op: defined ? 'exit' : 'fail', type: 'expr', location: QUERY_LOCATION, depth: 0 });
  }
}

const QUERY_LOCATION = { file: 'query', row: 1, col: 1 } as const;

/** OPA's lineage.Filter: each kept event preceded by the `enter`s that lead to it (once). */
function lineage(events: readonly TraceEvent[], keep: (e: TraceEvent) => boolean): TraceEvent[] {
  const out: TraceEvent[] = [];
  let path: Array<TraceEvent | undefined> = [];
  for (const e of events) {
    if (keep(e)) {
      // Enclosing enters: those at depths below the event's (a rule's own enter is one level up).
      for (let d = 0; d < path.length && d <= e.depth; d++) {
        const enter = path[d];
        if (enter) out.push(enter);
      }
      out.push(e);
      path = [];
    }
    if (e.op === 'enter') {
      path.length = e.depth + 1;
      path[e.depth + 1] = e;
    }
  }
  return out;
}

function select(mode: ExplainMode, events: readonly TraceEvent[]): readonly TraceEvent[] {
  switch (mode) {
    case 'notes':
      return lineage(events, (e) => e.op === 'note');
    case 'fails':
      return lineage(events, (e) => e.op === 'fail');
    case 'full':
    case 'debug':
      return events;
  }
}

const OP_NAMES: Readonly<Record<TraceEvent['op'], string>> = { enter: 'Enter', exit: 'Exit', eval: 'Eval', fail: 'Fail', note: 'Note' };

/** OPA's `data.a.b["c-d"][0]`. */
export function refString(path: readonly string[]): string {
  return path.reduce((s, seg) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? `${s}.${seg}` : /^\d+$/.test(seg) ? `${s}[${seg}]` : `${s}[${JSON.stringify(seg)}]`), 'data');
}

/**
 * What an event is about: a rule's path (as OPA prints it), else the source line from the
 * event's column (OPA prints the AST node; its text is not kept after parsing).
 */
function nodeText(e: TraceEvent, sourceOf: SourceOf): string {
  if (e.rule) return refString(e.rule);
  const line = sourceOf(e.location.file)?.split('\n')[e.location.row - 1];
  return line === undefined ? '' : line.slice(Math.max(0, e.location.col - 1)).trim();
}

/** topdown.PrettyTraceWithLocation: `file:row` padded to the longest plus four, then `| `s by depth. */
function pretty(events: readonly TraceEvent[], sourceOf: SourceOf): string[] {
  const locations = events.map((e) => `${e.location.file}:${e.location.row}`);
  const width = Math.max(0, ...locations.map((l) => l.length)) + 4;
  return events.map((e, i) => {
    const bars = '| '.repeat(e.depth + 1);
    const what = e.op === 'note' ? JSON.stringify(e.message ?? '') : nodeText(e, sourceOf);
    return `${locations[i]!.padEnd(width)} ${bars}${OP_NAMES[e.op]} ${what}`.trimEnd();
  });
}

/**
 * OPA's TraceEventV1 objects. Query ids: the outer query is 0, each rule entered opens the next
 * id under the one it was entered from. `node` carries only the location (OPA: the AST node) and
 * `locals` stays empty (the engine does not record bindings).
 */
function raw(events: readonly TraceEvent[], sourceOf: SourceOf): Ordered[] {
  // qidAt[d]: the query id of events at depth d (the outer query, depths -1 and 0, is 0).
  const qidAt: number[] = [0];
  let next = 1;
  return events.map((e) => {
    const d = e.depth;
    let qid: number;
    let parent: number;
    if (e.op === 'enter' && e.type === 'rule') {
      parent = qidAt[d] ?? 0;
      qid = next++;
      qidAt.length = d + 1;
      qidAt[d + 1] = qid;
    } else {
      qid = d < 0 ? 0 : (qidAt[d] ?? 0);
      parent = d <= 0 ? 0 : (qidAt[d - 1] ?? 0);
    }
    const location = new Ordered({ file: e.location.file, row: e.location.row, col: e.location.col });
    return new Ordered({
      op: e.op,
      query_id: qid,
      parent_id: parent,
      type: e.type,
      node: new Ordered({ text: nodeText(e, sourceOf), location }),
      locals: [],
      message: e.message,
    });
  });
}

/** The `explanation` of a response: strings under `?pretty`, event objects otherwise. */
export function explanation(mode: ExplainMode, events: readonly TraceEvent[], prettyPrint: boolean, sourceOf: SourceOf): unknown[] {
  const chosen = select(mode, events);
  return prettyPrint ? pretty(chosen, sourceOf) : raw(chosen, sourceOf);
}
