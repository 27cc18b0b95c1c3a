import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Gives the calling thread a lower scheduling priority. On Linux a thread is a task with a nice
 * value of its own, named by /proc/thread-self; raising one's own nice needs no privilege.
 * Returns false where that is not possible (other systems): the thread keeps its priority.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    if (nice > 0) setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
