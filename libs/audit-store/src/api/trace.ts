export interface TraceEvent extends Record<string, unknown> {
  event_id: string;
  causation_id: string | null;
}

/**
 * Orders the events of one correlation id causally: each event right after the event named by
 * its causation_id (depth-first, siblings by time); events whose cause is not in the set are
 * roots, in time order. Input must be in (occurred_at, event_id) order.
 */
export function causalOrder<E extends TraceEvent>(events: readonly E[]): Array<E & { depth: number }> {
  const ids = new Set(events.map((e) => e.event_id));
  const children = new Map<string, E[]>();
  const roots: E[] = [];
  for (const e of events) {
    const parent = e.causation_id !== null && e.causation_id !== e.event_id && ids.has(e.causation_id) ? e.causation_id : null;
    if (parent === null) roots.push(e);
    else children.set(parent, [...(children.get(parent) ?? []), e]);
  }
  const out: Array<E & { depth: number }> = [];
  const seen = new Set<string>();
  const stack: Array<{ e: E; depth: number }> = roots.map((e) => ({ e, depth: 0 })).reverse();
  while (stack.length) {
    const { e, depth } = stack.pop()!;
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push({ ...e, depth });
    const kids = children.get(e.event_id) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ e: kids[i]!, depth: depth + 1 });
  }
  // A causation cycle (only possible with forged data) leaves events unvisited: keep them, in time order.
  for (const e of events) if (!seen.has(e.event_id)) out.push({ ...e, depth: 0 });
  return out;
}
