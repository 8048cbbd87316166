/**
 * Memory of a server process, as the kernel counts it: what the "bounded by
 * design" tests measure. The peak is the kernel's high-water mark of resident
 * memory (VmHWM), reset before each measured step, so a spike that lasts a
 * millisecond is seen as surely as one that lasts a minute.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const MiB = 1024 * 1024;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no ${field} for process ${pid}`);
  return (kb * 1024) / MiB;
}

export const rssMiB = (pid: number) => statusField(pid, 'VmRSS');

/**
 * Runs `step` and answers the process's peak resident memory while it ran, in
 * MiB. Writing 5 to clear_refs resets the high-water mark to the current RSS
 * (Linux; the process must be ours). Where that is refused, memory is sampled
 * every 10 ms instead.
 */
export async function peakDuring(pid: number, step: () => Promise<unknown>): Promise<{ before: number; peak: number }> {
  const before = rssMiB(pid);
  let resettable = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    resettable = false;
  }
  let sampled = before;
  const timer = resettable ? undefined : setInterval(() => (sampled = Math.max(sampled, rssMiB(pid))), 10);
  try {
    await step();
  } finally {
    if (timer) clearInterval(timer);
  }
  const peak = resettable ? statusField(pid, 'VmHWM') : Math.max(sampled, rssMiB(pid));
  return { before, peak };
}

/**
 * A server process given a fixed heap: what holds data in proportion to the
 * store then fails outright (out of memory) instead of passing on a machine
 * with room to spare, and garbage is collected before the heap grows far, so
 * the peak measures what is held rather than when V8 chose to collect.
 */
export function fixedHeap(mib: number): { NODE_OPTIONS: string } {
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${mib}`.trim() };
}
