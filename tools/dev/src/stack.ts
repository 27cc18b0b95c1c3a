import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');

export interface ServiceSpec {
  readonly name: string;
  /** Path of the app's entry point, relative to the repo root. */
  readonly entry: string;
  /** Extra flags for node, e.g. V8 heap tuning. */
  readonly nodeFlags?: readonly string[];
  readonly port: number;
  readonly env: Record<string, string>;
}

export interface RunningService {
  readonly spec: ServiceSpec;
  readonly url: string;
  readonly child: ChildProcess;
}

/** SIGTERM (each service drains and exits 0), SIGKILL after `graceMs`; resolves with how it ended. */
export async function stopService(service: RunningService, graceMs = 15_000): Promise<string | null> {
  const { child } = service;
  const ended = () => (child.exitCode === 0 ? null : child.exitCode !== null ? `code ${child.exitCode}` : `${child.signalCode}`);
  if (child.exitCode !== null || child.signalCode !== null) return ended();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  return ended();
}

const COLORS = [36, 35, 33, 32];

/** Starts an app with tsx, prefixing each of its log lines with its name. */
export function startService(spec: ServiceSpec, index: number): RunningService {
  const child = spawn(process.execPath, [...(spec.nodeFlags ?? []), '--import', 'tsx', spec.entry], {
    cwd: ROOT,
    env: { ...process.env, ...spec.env, PORT: String(spec.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = `\u001b[${COLORS[index % COLORS.length]}m${spec.name.padEnd(15)}\u001b[0m`;
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`${tag} ${line}\n`);
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  return { spec, url: `http://127.0.0.1:${spec.port}`, child };
}

/** Resolves once GET /ready answers 200; rejects when the process dies or time runs out. */
export async function waitReady(service: RunningService, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`${service.spec.name} exited with code ${service.child.exitCode}`);
    try {
      const res = await fetch(`${service.url}/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.spec.name} was not ready after ${timeoutMs / 1000}s`);
}

/** Runs a one-off command (migrate, seed) to completion, returning its stdout; `signal` ends it early (SIGTERM). */
export function runCommand(args: readonly string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], signal });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    // An abort also arrives as 'error'; 'exit' follows it and settles the promise.
    child.on('error', () => undefined);
    child.on('exit', (code, sig) => (code === 0 ? resolveRun(out) : reject(new Error(`${args.join(' ')} exited with ${sig ?? `code ${code}`}`))));
  });
}
