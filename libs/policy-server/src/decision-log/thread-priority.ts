import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Gives the calling thread a lower scheduling priority. On Linux a thread is a task with a nice
 * value of its own, named by /proc/thread-self; raising one's own nice needs no privilege.
 * Elsewhere the thread keeps its priority.
 */
export function lowerThreadPriority(nice: number): void {
  if (nice <= 0) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux: no per-thread priority to set.
  }
}
