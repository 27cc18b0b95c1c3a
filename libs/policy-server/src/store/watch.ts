import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '@cloud-stack/service-kit';

export interface DirectoryWatcher {
  close(): void;
}

/**
 * Calls `onChange` once a burst of changes under `dir` has settled for `debounceMs`. Changes that
 * arrive while `onChange` runs schedule one more run after it, so the last state always loads.
 */
export function watchDirectory(dir: string, debounceMs: number, onChange: () => Promise<unknown>, logger: Logger): DirectoryWatcher {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let closed = false;

  const run = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await onChange();
    } catch (err) {
      logger.error({ err, dir }, 'policy reload failed');
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      schedule();
    }
  };
  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), debounceMs);
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
      if (file && /(^|[\\/])\.[^\\/]*\.sw.$|~$/.test(String(file))) return; // editor swap/backup files
      schedule();
    });
  } catch (err) {
    logger.error({ err, dir }, 'cannot watch the policy directory; reloads disabled');
    return { close: () => undefined };
  }
  watcher.on('error', (err) => logger.error({ err, dir }, 'policy directory watch error'));
  return {
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
