import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '@cloud-stack/test-kit';

export const ROOT = resolve(import.meta.dirname, '../../..');

export type ServiceName = 'identity' | 'policy-sidecar' | 'audit-writer' | 'gateway';

export interface ServiceSpec {
  readonly name: ServiceName;
  /** The app's entry point, relative to the repository root. */
  readonly entry: string;
  readonly env: Record<string, string>;
}

/**
 * One app as its own process (node with tsx as a loader, so a signal reaches the service
 * itself), on a port that stays the same across restarts. An exit the suite did not ask for is
 * recorded: no service may ever exit on its own.
 */
export class Service {
  readonly url: string;
  /** Set while the suite has the process down on purpose (killed, not ready again yet). */
  down = false;
  /** When the suite last took it down; a request in flight since then may fail at the socket. */
  lastKilledAt = 0;
  /** When the suite last started its process. */
  lastStartedAt = 0;
  readonly unexpectedExits: string[] = [];
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;

  private constructor(
    readonly spec: ServiceSpec,
    readonly port: number,
    logDir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  static async create(spec: ServiceSpec, logDir: string): Promise<Service> {
    mkdirSync(logDir, { recursive: true });
    return new Service(spec, await freePort(), logDir);
  }

  start(): void {
    this.lastStartedAt = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', this.spec.entry], {
      cwd: ROOT,
      env: { ...process.env, ...this.spec.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    child.once('exit', (code, signal) => {
      if (this.child === child && !this.down) this.unexpectedExits.push(`${this.spec.name} exited on its own (code ${code}, signal ${signal})`);
    });
    this.child = child;
  }

  /** Sends `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.down = true;
    this.lastKilledAt = Date.now();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Resolves once GET /ready answers 200 (then the service counts as up again). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const code = this.child?.exitCode;
      if (code !== null && code !== undefined) throw new Error(`${this.spec.name} exited with code ${code}`);
      const ok = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        this.down = false;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.spec.name} was not ready within ${timeoutMs} ms`);
  }

  /** SIGTERM (the service drains), SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    this.down = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.log.end();
      return;
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.log.end();
  }
}

/** Runs a one-off command (identity's seed) to completion. */
export function runCommand(args: readonly string[], env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}
