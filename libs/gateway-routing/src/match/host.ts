/** A request's Host header split into a lower-case name without trailing dot, and its port ('' when none). */
export interface RequestHost {
  readonly name: string;
  readonly port: string;
}

const NO_HOST: RequestHost = { name: '', port: '' };

/** Case-insensitive, trailing dot ignored; IPv6 literals keep their brackets. */
export function parseHost(header: string): RequestHost {
  if (!header) return NO_HOST;
  let name = header;
  let port = '';
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    if (close < 0) return NO_HOST;
    name = header.substring(0, close + 1);
    if (header.charCodeAt(close + 1) === 58 /* : */) port = header.substring(close + 2);
  } else {
    const colon = header.lastIndexOf(':');
    if (colon >= 0) {
      name = header.substring(0, colon);
      port = header.substring(colon + 1);
    }
  }
  if (name.charCodeAt(name.length - 1) === 46 /* . */) name = name.substring(0, name.length - 1);
  return { name: name.toLowerCase(), port };
}

/** How a host pattern is indexed: exact name or wildcard suffix (`.example.com`), with its port if it names one. */
export interface HostKey {
  readonly kind: 'exact' | 'wildcard';
  /** `api.example.com`, `api.example.com:8443`, `.example.com`, `.example.com:8443`. */
  readonly key: string;
  readonly hasPort: boolean;
}

export function hostKey(pattern: string): HostKey {
  const lower = pattern.toLowerCase();
  const hasPort = lower.includes(':');
  if (lower.startsWith('*.')) return { kind: 'wildcard', key: lower.substring(1), hasPort };
  return { kind: 'exact', key: lower, hasPort };
}
