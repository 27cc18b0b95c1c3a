import type { Value } from '../value';

/**
 * Variable bindings of one rule body (and the comprehensions inside it). Bodies bind a
 * handful of vars, mostly undone in reverse order, so one array of name/value pairs with a
 * linear scan beats a Map, whose allocation alone costs more than evaluating a simple rule.
 */
export class Bindings {
  /** name0, value0, name1, value1, ... up to `2 * size`; slots past that are cleared. */
  private readonly slots: Array<string | Value | undefined> = [];
  private size = 0;

  get(name: string): Value | undefined {
    const s = this.slots;
    for (let i = 2 * this.size - 2; i >= 0; i -= 2) if (s[i] === name) return s[i + 1] as Value;
    return undefined;
  }

  has(name: string): boolean {
    const s = this.slots;
    for (let i = 2 * this.size - 2; i >= 0; i -= 2) if (s[i] === name) return true;
    return false;
  }

  /** Binds an unbound var (callers check `has` first). */
  set(name: string, v: Value): void {
    const i = 2 * this.size++;
    this.slots[i] = name;
    this.slots[i + 1] = v;
  }

  delete(name: string): void {
    const s = this.slots;
    const top = 2 * this.size - 2;
    for (let i = top; i >= 0; i -= 2) {
      if (s[i] !== name) continue;
      // Vars are mostly undone in reverse order (i === top): nothing to shift then.
      for (let j = i; j < top; j++) s[j] = s[j + 2];
      s[top] = undefined;
      s[top + 1] = undefined;
      this.size--;
      return;
    }
  }

  /** Unbinds everything (keeping the array's capacity). */
  clear(): void {
    const s = this.slots;
    for (let i = 2 * this.size - 1; i >= 0; i--) s[i] = undefined;
    this.size = 0;
  }
}

const free: Bindings[] = [];

/**
 * Empty bindings for a rule or function body, from a small pool: evaluation is synchronous
 * and a body's bindings are dead once its rule returns, so `release` lets the next rule
 * reuse them instead of allocating per rule and per decision.
 */
export function borrowBindings(): Bindings {
  return free.pop() ?? new Bindings();
}

/** Gives bindings back (cleared, so no value outlives its evaluation through the pool). */
export function releaseBindings(b: Bindings): void {
  b.clear();
  if (free.length < 64) free.push(b);
}
