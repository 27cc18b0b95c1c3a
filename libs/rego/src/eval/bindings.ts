import type { Value } from '../value';

/**
 * Variable bindings of one rule body (and the comprehensions inside it). Bodies bind a
 * handful of vars, mostly undone in reverse order, so two small arrays with a linear scan
 * beat a Map, whose allocation alone costs more than evaluating a simple rule.
 */
export class Bindings {
  private names: string[] = [];
  private values: Value[] = [];

  get(name: string): Value | undefined {
    const ns = this.names;
    for (let i = ns.length - 1; i >= 0; i--) if (ns[i] === name) return this.values[i];
    return undefined;
  }

  has(name: string): boolean {
    const ns = this.names;
    for (let i = ns.length - 1; i >= 0; i--) if (ns[i] === name) return true;
    return false;
  }

  /** Binds an unbound var (callers check `has` first). */
  set(name: string, v: Value): void {
    this.names.push(name);
    this.values.push(v);
  }

  delete(name: string): void {
    const ns = this.names;
    const last = ns.length - 1;
    if (last >= 0 && ns[last] === name) {
      ns.pop();
      this.values.pop();
      return;
    }
    for (let i = last - 1; i >= 0; i--) {
      if (ns[i] === name) {
        ns.splice(i, 1);
        this.values.splice(i, 1);
        return;
      }
    }
  }
}
