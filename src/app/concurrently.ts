/**
 * Bulk commands issue their independent writes side by side, so that the
 * SQLite store's group commit writes the appends of one turn of the event loop
 * in one transaction with one fsync (and an EventStoreDB client keeps several
 * appends in flight), instead of one fsync per item.
 */

/**
 * Runs `work` for every item, at most `limit` at a time (bounding the memory
 * the items in flight hold). After the first failure no further item starts;
 * those already running are let finish, so that what they wrote is known when
 * the first failure is thrown.
 */
export async function forEachConcurrently<T>(
  items: Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const runner = async () => {
    while (!failure) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, runner));
  if (failure) throw failure.error;
}

/** The later of two global positions (positions compare as strings); undefined when neither is given. */
export function laterPosition(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * A budget of bytes shared by work running side by side: `use` waits while
 * others hold too much of it. One item larger than the whole budget still
 * runs, alone. Waiters are served in order, so none waits forever.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; start: () => void }[] = [];

  constructor(private readonly bytes: number) {}

  async use<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    if (this.waiting.length > 0 || !this.fits(bytes)) {
      await new Promise<void>((start) => this.waiting.push({ bytes, start }));
    } else {
      this.used += bytes;
    }
    try {
      return await work();
    } finally {
      this.used -= bytes;
      this.startWaiting();
    }
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.bytes;
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.start();
    }
  }
}
