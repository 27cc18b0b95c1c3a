/**
 * Masking of decision-log fields by JSON pointer (RFC 6901), like OPA's `system.log.mask`
 * erase rules: `/input/password` removes input.password and lists the pointer under `erased`.
 * Copy-on-write: the objects the request used are never modified.
 */
export interface MaskRule {
  readonly pointer: string;
  readonly root: 'input' | 'result';
  readonly segments: readonly string[];
}

export function parseMaskRules(pointers: readonly string[]): MaskRule[] {
  return pointers.map((pointer) => {
    if (!pointer.startsWith('/')) throw new TypeError(`mask ${pointer} is not a JSON pointer (must start with /)`);
    const segments = pointer
      .slice(1)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const root = segments.shift();
    if (root !== 'input' && root !== 'result') throw new TypeError(`mask ${pointer} must start with /input or /result`);
    return { pointer, root, segments };
  });
}

function eraseAt(value: unknown, segments: readonly string[], i: number): { value: unknown; erased: boolean } {
  if (typeof value !== 'object' || value === null) return { value, erased: false };
  const key = segments[i]!;
  if (Array.isArray(value)) {
    const idx = Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx >= value.length) return { value, erased: false };
    if (i === segments.length - 1) return { value: value.filter((_, j) => j !== idx), erased: true };
    const inner = eraseAt(value[idx], segments, i + 1);
    if (!inner.erased) return { value, erased: false };
    const copy = value.slice();
    copy[idx] = inner.value;
    return { value: copy, erased: true };
  }
  const obj = value as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return { value, erased: false };
  if (i === segments.length - 1) {
    const { [key]: _removed, ...rest } = obj;
    return { value: rest, erased: true };
  }
  const inner = eraseAt(obj[key], segments, i + 1);
  if (!inner.erased) return { value, erased: false };
  return { value: { ...obj, [key]: inner.value }, erased: true };
}

/** Applies the rules to input and result; returns the masked copies and the pointers erased. */
export function applyMask(
  rules: readonly MaskRule[],
  doc: { input?: unknown; result?: unknown },
): { input?: unknown; result?: unknown; erased: string[] } {
  let { input, result } = doc;
  const erased: string[] = [];
  for (const rule of rules) {
    const target = rule.root === 'input' ? input : result;
    if (target === undefined) continue;
    if (rule.segments.length === 0) {
      if (rule.root === 'input') input = undefined;
      else result = undefined;
      erased.push(rule.pointer);
      continue;
    }
    const out = eraseAt(target, rule.segments, 0);
    if (!out.erased) continue;
    if (rule.root === 'input') input = out.value;
    else result = out.value;
    erased.push(rule.pointer);
  }
  return { input, result, erased };
}

/** DECISION_LOG_MASK on one entry: the erased pointers join those the mask policy erased. */
export function maskEntry<E extends { input?: unknown; result?: unknown; erased?: readonly string[] }>(rules: readonly MaskRule[], entry: E): E {
  if (rules.length === 0) return entry;
  const { input, result, erased } = applyMask(rules, entry);
  if (erased.length === 0) return entry;
  return { ...entry, input, result, erased: [...(entry.erased ?? []), ...erased] };
}
