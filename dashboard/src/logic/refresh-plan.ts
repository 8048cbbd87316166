// Which trials' curves to read again, and when: a trial reporting metrics ten times a second is read at
// most once per interval, and one read covers a batch of trials. Time is passed in, so the rules are
// specified without a clock (test/unit/dashboard/refresh-plan.test.ts).

export class RefreshPlan {
  private readonly lastRead = new Map<string, number>();
  private readonly due = new Set<string>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxBatch: number,
  ) {}

  /** Something new for `key` arrived (a metrics report). */
  mark(key: string): void {
    this.due.add(key);
  }

  get pending(): number {
    return this.due.size;
  }

  /**
   * The keys to read now (at most `maxBatch`, each read no sooner than `intervalMs` after its last read),
   * and when to ask again (null when nothing waits).
   */
  take(now: number): { keys: string[]; nextAt: number | null } {
    const keys: string[] = [];
    let nextAt: number | null = null;
    for (const key of this.due) {
      const readyAt = (this.lastRead.get(key) ?? -Infinity) + this.intervalMs;
      if (readyAt <= now && keys.length < this.maxBatch) {
        keys.push(key);
      } else {
        const at = Math.max(readyAt, now);
        nextAt = nextAt === null ? at : Math.min(nextAt, at);
      }
    }
    for (const key of keys) {
      this.due.delete(key);
      this.lastRead.set(key, now);
    }
    // Entries older than an interval decide nothing: drop them so 10,000 trials leave no trail.
    if (this.lastRead.size > 4 * this.maxBatch) {
      for (const [key, at] of this.lastRead) if (at + this.intervalMs <= now) this.lastRead.delete(key);
    }
    return { keys, nextAt };
  }
}
