// Which trials changed between two renders, told by object identity. The experiment page's store
// replaces a changed trial with a new object and keeps every unchanged one as it was (never mutated:
// see logic/trials.ts, TrialSet), so `previous[i] !== next[i]` is exactly "slot i changed". The charts
// rely on that to patch what they drew instead of recomputing it: a store that mutated trials in place
// would show stale charts.

/**
 * The positions whose item is not the same object in both lists, in ascending order; positions past
 * the shorter list count too (an item added or removed there). Null when more than `most` changed:
 * the caller should then rebuild, which costs less than patching most of it.
 */
export function changedSlots<T>(previous: readonly T[], next: readonly T[], most = Infinity): number[] | null {
  const changed: number[] = [];
  const length = Math.max(previous.length, next.length);
  for (let i = 0; i < length; i++) {
    if (i < previous.length && i < next.length && previous[i] === next[i]) continue;
    changed.push(i);
    if (changed.length > most) return null;
  }
  return changed;
}

/**
 * Allows a costly step (a full recompute) at most once per `intervalMs`: between two, callers use
 * what they have and ask again after `wait()` milliseconds.
 */
export class Coalescer {
  private last = -Infinity;
  constructor(private readonly intervalMs: number) {}

  /** Whether the step may run now; if so it is recorded as run. */
  take(now: number): boolean {
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }

  /** Milliseconds until the step may run again. */
  wait(now: number): number {
    return Math.max(0, this.last + this.intervalMs - now);
  }
}
