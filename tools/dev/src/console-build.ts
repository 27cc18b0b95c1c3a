import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './stack';

const CONSOLE = resolve(ROOT, 'apps/console');
const BUILT = join(CONSOLE, 'dist/index.html');

/** The operator console as the gateway serves it, and who signs in to it in the demo. */
export const CONSOLE_PATH = '/__gateway/console/';
export const CONSOLE_SIGN_IN = [
  { email: 'admin@cloudstack.example', password: 'demo-admin-pass', note: 'changes routes, playground, audit' },
  { email: 'operator@cloudstack.example', password: 'demo-operator-pass', note: 'read only' },
] as const;

function newestIn(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((n) => newestIn(join(path, n))));
}

/** True when apps/console/dist is missing or older than the console's sources. */
export function consoleNeedsBuild(): boolean {
  if (!existsSync(BUILT)) return true;
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(CONSOLE, p)).filter((p) => existsSync(p));
  return Math.max(...sources.map(newestIn)) > statSync(BUILT).mtimeMs;
}

/** `vite build` of the console (what `nx run @cloud-stack/console:build` runs), when its sources changed. */
export async function ensureConsoleBuilt(say: (line: string) => void): Promise<void> {
  if (!consoleNeedsBuild()) return;
  say('building the operator console (apps/console, vite build)…');
  const vite = resolve(ROOT, 'node_modules/vite/bin/vite.js');
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: CONSOLE, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`building the console (vite build in apps/console) exited ${code}`))));
  });
}
