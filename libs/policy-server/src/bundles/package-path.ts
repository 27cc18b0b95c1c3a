/**
 * The path of a module's `package` (["gateway", "authz"] for `package gateway.authz`), read
 * without the full parser: the roots check needs only this, and the engine parses the module
 * anyway when the bundle compiles. Undefined when the module does not start with a package
 * clause the reader understands (comments and blank lines may precede it).
 */
export function packagePath(source: string): string[] | undefined {
  const text = source.replace(/^\uFEFF/, '');
  let i = 0;
  const skip = (): void => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n') i++;
    }
  };
  const ident = (): string | undefined => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  skip();
  if (ident() !== 'package') return undefined;
  skip();
  const first = ident();
  if (first === undefined) return undefined;
  const path = [first];
  for (;;) {
    if (text[i] === '.') {
      i++;
      const next = ident();
      if (next === undefined) return undefined;
      path.push(next);
    } else if (text[i] === '[') {
      const m = /^\[\s*("(?:[^"\\\n]|\\.)*")\s*\]/.exec(text.slice(i, i + 1024));
      if (!m) return undefined;
      i += m[0].length;
      path.push(JSON.parse(m[1]!) as string);
    } else break;
  }
  // `package data.x` names the same package as `package x`.
  return path[0] === 'data' ? path.slice(1) : path;
}
