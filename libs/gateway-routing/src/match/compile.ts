import { HTTP_METHODS, type Route, type RouteMatch } from '../route';
import { hostKey, parseHost } from './host';

/** A compiled route set; `match` is synchronous and cheap enough to run on every request. */
export interface Matcher {
  /** `path` is the request path without the query string (anything from `?` on is ignored). */
  match(method: string, host: string, path: string): RouteMatch;
}

interface Entry {
  readonly route: Route;
  /** Names of the route's `{param}` segments, in path order. */
  readonly names: readonly string[];
}

/** The routes sharing one path shape, resolved per method at compile time. */
interface Terminal {
  readonly byMethod: ReadonlyMap<string, Entry>;
  /** The winner for a method no route lists (TRACE, …): the best any-method route, if any. */
  readonly anyMethod: Entry | null;
  readonly allow: readonly string[];
}

class Node {
  literals: Map<string, Node> | null = null;
  param: Node | null = null;
  end: Entry[] | Terminal | null = null;
  rest: Entry[] | Terminal | null = null;
}

const NONE: RouteMatch = Object.freeze({ kind: 'none' });
const HOST_CACHE_SIZE = 1024;

/**
 * Builds the matcher of one route-table version. Per host bucket (exact, then wildcard suffix
 * from the longest, then any host) a segment trie is walked depth-first: at each segment a
 * literal child before a `{param}` child before a trailing `/*`, so the first route found is the
 * most specific one; among routes of the same shape each method's winner is chosen here (an
 * explicit method, then GET serving HEAD, then any-method, then the smaller route id).
 */
export function compileRoutes(routes: readonly Route[], version = 0): Matcher {
  const exact = new Map<string, Node>();
  const wildcard = new Map<string, Node>();
  let any: Node | null = null;
  let portPatterns = false;
  let maxParams = 0;

  for (const route of routes) {
    const segments = route.path === '/' ? [] : route.path.substring(1).split('/');
    const names: string[] = [];
    for (const s of segments) if (s.startsWith('{')) names.push(s.substring(1, s.length - 1));
    maxParams = Math.max(maxParams, names.length);
    const entry: Entry = { route, names };
    const roots: Node[] = [];
    if (route.hosts.length === 0) roots.push((any ??= new Node()));
    for (const pattern of route.hosts) {
      const key = hostKey(pattern);
      portPatterns ||= key.hasPort;
      const bucket = key.kind === 'exact' ? exact : wildcard;
      let root = bucket.get(key.key);
      if (!root) bucket.set(key.key, (root = new Node()));
      roots.push(root);
    }
    for (const root of roots) insert(root, segments, entry);
  }
  const allRoots = [...exact.values(), ...wildcard.values(), ...(any ? [any] : [])];
  for (const root of allRoots) finalize(root);

  const starts = new Int32Array(maxParams);
  const ends = new Int32Array(maxParams);

  // Depth-first walk; `pos` is the index of the `/` before the next segment, or path.length.
  function walk(node: Node, path: string, pos: number, depth: number, method: string): Entry | null {
    if (pos === path.length) {
      const hit = pick(node.end as Terminal | null, method);
      if (hit) return hit;
    } else {
      const segStart = pos + 1;
      let segEnd = path.indexOf('/', segStart);
      if (segEnd < 0) segEnd = path.length;
      if (node.literals) {
        const child = node.literals.get(path.substring(segStart, segEnd));
        if (child) {
          const hit = walk(child, path, segEnd, depth, method);
          if (hit) return hit;
        }
      }
      if (node.param && validParam(path, segStart, segEnd)) {
        starts[depth] = segStart;
        ends[depth] = segEnd;
        const hit = walk(node.param, path, segEnd, depth + 1, method);
        if (hit) return hit;
      }
    }
    if (node.rest && validRest(path, pos)) return pick(node.rest as Terminal, method);
    return null;
  }

  /** Every bucket `host` falls into, most specific first (exact with port, exact, wildcards longest first, any). */
  function bucketsOf(name: string, port: string): Node[] {
    const out: Node[] = [];
    const add = (map: Map<string, Node>, key: string) => {
      const withPort = portPatterns && port ? map.get(`${key}:${port}`) : undefined;
      if (withPort) out.push(withPort);
      const plain = map.get(key);
      if (plain) out.push(plain);
    };
    if (name) {
      add(exact, name);
      for (let dot = name.indexOf('.', 1); dot > 0 && wildcard.size; dot = name.indexOf('.', dot + 1)) add(wildcard, name.substring(dot));
    }
    if (any) out.push(any);
    return out;
  }

  // Host headers repeat: resolve each one's buckets once. Bounded, and simply emptied when full,
  // so a client sending random Host values costs a re-resolve, never memory.
  const hostCache = new Map<string, Node[]>();
  function bucketsFor(host: string): Node[] {
    let buckets = hostCache.get(host);
    if (!buckets) {
      const { name, port } = parseHost(host);
      buckets = bucketsOf(name, port);
      if (host.length <= 255) {
        if (hostCache.size >= HOST_CACHE_SIZE) hostCache.clear();
        hostCache.set(host, buckets);
      }
    }
    return buckets;
  }

  return {
    match(method, host, rawPath) {
      const q = rawPath.indexOf('?');
      const path = q < 0 ? rawPath : rawPath.substring(0, q);
      if (path.charCodeAt(0) !== 47 /* / */) return NONE;
      const from = path.length === 1 ? 1 : 0;
      const buckets = bucketsFor(host);
      for (let b = 0; b < buckets.length; b++) {
        const hit = walk(buckets[b]!, path, from, 0, method);
        if (hit) {
          const params: Record<string, string> = {};
          for (let i = 0; i < hit.names.length; i++) params[hit.names[i]!] = decodeSegment(path, starts[i]!, ends[i]!);
          return { kind: 'route', route: hit.route, version, params };
        }
      }
      // Only a miss pays for this second walk: which methods would the path have accepted?
      const allow = new Set<string>();
      for (const root of buckets) collectAllow(root, path, from, allow);
      if (allow.size === 0) return NONE;
      return { kind: 'method_not_allowed', allow: HTTP_METHODS.filter((m) => allow.has(m)) };
    },
  };
}

function insert(root: Node, segments: readonly string[], entry: Entry): void {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '*' && i === segments.length - 1) {
      ((node.rest ??= []) as Entry[]).push(entry);
      return;
    }
    if (s.startsWith('{')) {
      node = node.param ??= new Node();
    } else {
      const literals = (node.literals ??= new Map());
      let child = literals.get(s);
      if (!child) literals.set(s, (child = new Node()));
      node = child;
    }
  }
  ((node.end ??= []) as Entry[]).push(entry);
}

function finalize(node: Node): void {
  if (Array.isArray(node.end)) node.end = terminal(node.end);
  if (Array.isArray(node.rest)) node.rest = terminal(node.rest);
  if (node.literals) for (const child of node.literals.values()) finalize(child);
  if (node.param) finalize(node.param);
}

/** 0: lists the method; 1: GET route serving HEAD; 2: any method; -1: does not accept it. */
function rank(route: Route, method: string): number {
  if (route.methods.length === 0) return 2;
  if ((route.methods as readonly string[]).includes(method)) return 0;
  if (method === 'HEAD' && route.methods.includes('GET')) return 1;
  return -1;
}

function better(a: Entry, b: Entry, method: string): boolean {
  const ra = rank(a.route, method);
  const rb = rank(b.route, method);
  return ra !== rb ? ra < rb : a.route.id < b.route.id;
}

function terminal(entries: readonly Entry[]): Terminal {
  const byMethod = new Map<string, Entry>();
  let anyMethod: Entry | null = null;
  for (const e of entries) {
    if (e.route.methods.length === 0 && (!anyMethod || e.route.id < anyMethod.route.id)) anyMethod = e;
  }
  for (const method of HTTP_METHODS) {
    let best: Entry | null = null;
    for (const e of entries) {
      if (rank(e.route, method) >= 0 && (!best || better(e, best, method))) best = e;
    }
    if (best) byMethod.set(method, best);
  }
  return { byMethod, anyMethod, allow: HTTP_METHODS.filter((m) => byMethod.has(m)) };
}

function pick(t: Terminal | null, method: string): Entry | null {
  if (!t) return null;
  return t.byMethod.get(method) ?? t.anyMethod;
}

function collectAllow(node: Node, path: string, pos: number, out: Set<string>): void {
  if (pos === path.length) {
    if (node.end) for (const m of (node.end as Terminal).allow) out.add(m);
  } else {
    const segStart = pos + 1;
    let segEnd = path.indexOf('/', segStart);
    if (segEnd < 0) segEnd = path.length;
    const child = node.literals?.get(path.substring(segStart, segEnd));
    if (child) collectAllow(child, path, segEnd, out);
    if (node.param && validParam(path, segStart, segEnd)) collectAllow(node.param, path, segEnd, out);
  }
  if (node.rest && validRest(path, pos)) for (const m of (node.rest as Terminal).allow) out.add(m);
}

/**
 * A `{param}` never matches an empty segment, `.`/`..` (raw or encoded), a bad escape, or a value
 * that decodes to contain `/` or `\`: such a value would change the path once an upstream decodes it.
 */
function validParam(path: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 0) return false;
  if (path.charCodeAt(start) === 46 /* . */ && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 46))) return false;
  const pct = path.indexOf('%', start);
  if (pct < 0 || pct >= end) return true;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.substring(start, end));
  } catch {
    return false;
  }
  return decoded !== '.' && decoded !== '..' && !decoded.includes('/') && !decoded.includes('\\');
}

/** The rest matched by a trailing `/*` must not climb out of the prefix with `.` or `..` segments. */
function validRest(path: string, pos: number): boolean {
  for (let i = path.indexOf('/.', pos); i >= 0; i = path.indexOf('/.', i + 1)) {
    const next = path.charCodeAt(i + 2);
    if (Number.isNaN(next) || next === 47) return false; // `/.` at a segment's end
    if (next === 46 && (i + 3 === path.length || path.charCodeAt(i + 3) === 47)) return false; // `/..`
  }
  return true;
}

function decodeSegment(path: string, start: number, end: number): string {
  const raw = path.substring(start, end);
  return raw.includes('%') ? decodeURIComponent(raw) : raw;
}
