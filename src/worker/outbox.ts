/**
 * An ordered, batched, numbered queue of reports for one job (log lines, or
 * metric points). What it guarantees:
 * - order: one batch in flight at a time, sent in the order items came;
 * - batching: a batch goes when it is full (`maxBatch` items or
 *   `maxBatchBytes`) or `intervalMs` after its oldest item arrived,
 *   whichever comes first;
 * - exactly once: each batch gets the next `sequence` number and keeps it
 *   across retries, so the server can recognise a resend;
 * - bounded memory: past `maxPendingBytes` (the server unreachable for a
 *   long time) the oldest unsent items are dropped and counted.
 *
 * The `send` function retries network failures itself; anything it throws is
 * final for that batch, and `onError` decides whether the outbox goes on.
 */

export interface OutboxOptions<T> {
  maxBatch: number;
  maxBatchBytes: number;
  intervalMs: number;
  maxPendingBytes: number;
  /** An item's size in bytes, roughly as it will be sent. */
  sizeOf: (item: T) => number;
  /** Items that may share a batch (log lines of one stream): a batch is a run of equal keys. */
  batchKey?: (item: T) => string;
  send: (batch: T[], sequence: number) => Promise<void>;
  /** A batch failed for good: 'continue' drops it and goes on; 'stop' abandons everything pending. */
  onError: (error: unknown, batch: T[]) => 'continue' | 'stop';
  /**
   * The server refused the batch as too large and wrote none of it (its store takes smaller appends than
   * `maxBatchBytes` makes): it is sent again, with the same sequence, in batches of half its bytes, and
   * every later batch keeps under that. A single item refused so goes to `onError`.
   */
  isTooLarge?: (error: unknown) => boolean;
}

interface Pending<T> {
  item: T;
  bytes: number;
  at: number;
}

export class Outbox<T> {
  private pending: Pending<T>[] = [];
  private pendingBytes = 0;
  private sequence = 0;
  private pump: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private flushNow = false;
  private stopped = false;
  /** Items dropped because `maxPendingBytes` was reached, since the count was last taken. */
  private droppedCount = 0;
  /** `maxBatchBytes`, or less once the server refused a batch as too large. */
  private maxBatchBytes: number;

  constructor(private readonly options: OutboxOptions<T>) {
    this.maxBatchBytes = options.maxBatchBytes;
  }

  push(item: T): void {
    if (this.stopped) return;
    const bytes = this.options.sizeOf(item);
    this.pending.push({ item, bytes, at: Date.now() });
    this.pendingBytes += bytes;
    while (this.pendingBytes > this.options.maxPendingBytes && this.pending.length > 1) {
      this.pendingBytes -= this.pending.shift()!.bytes;
      this.droppedCount++;
    }
    if (this.batchIsFull()) this.wake?.();
    this.ensurePump();
  }

  /** How many items were dropped for lack of room since the last call (and resets the count). */
  takeDroppedCount(): number {
    const count = this.droppedCount;
    this.droppedCount = 0;
    return count;
  }

  /** Sends everything pending now, without waiting for batches to fill; resolves once all is sent (or stopped). */
  async drain(): Promise<void> {
    this.flushNow = true;
    this.wake?.();
    while (this.pump) await this.pump;
  }

  /** Drops everything pending: the job is no longer ours to report on. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.wake?.();
  }

  private ensurePump(): void {
    this.pump ??= this.run().finally(() => {
      this.pump = null;
      // An item pushed while the loop was ending must not wait for the next push.
      if (this.pending.length > 0 && !this.stopped) this.ensurePump();
    });
  }

  private async run(): Promise<void> {
    while (this.pending.length > 0 && !this.stopped) {
      await this.untilBatchDue();
      if (this.stopped || this.pending.length === 0) break;
      const taken = this.takeBatch();
      const batch = taken.map((p) => p.item);
      try {
        await this.options.send(batch, ++this.sequence);
      } catch (error) {
        if (taken.length > 1 && this.options.isTooLarge?.(error) && !this.stopped) {
          // Nothing of it was written: its sequence number is still the next one, and its items go first again.
          this.sequence--;
          const bytes = taken.reduce((sum, p) => sum + p.bytes, 0);
          this.maxBatchBytes = Math.max(1, Math.floor(bytes / 2));
          this.pending.unshift(...taken);
          this.pendingBytes += bytes;
          continue;
        }
        if (this.options.onError(error, batch) === 'stop') this.stop();
      }
    }
  }

  private batchIsFull(): boolean {
    return this.pending.length >= this.options.maxBatch || this.pendingBytes >= this.maxBatchBytes;
  }

  /** Due when full, when draining, or once the oldest waiting item has waited `intervalMs`. */
  private untilBatchDue(): Promise<void> {
    const wait = this.pending[0]!.at + this.options.intervalMs - Date.now();
    if (this.flushNow || this.batchIsFull() || wait <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => (this.wake = null));
  }

  /** The longest run from the head with one key, within the item and byte bounds (at least one item). */
  private takeBatch(): Pending<T>[] {
    const key = this.options.batchKey;
    const first = key?.(this.pending[0]!.item);
    let size = 1;
    let bytes = this.pending[0]!.bytes;
    while (size < this.options.maxBatch && size < this.pending.length) {
      const next = this.pending[size]!;
      if (bytes + next.bytes > this.maxBatchBytes) break;
      if (key && key(next.item) !== first) break;
      bytes += next.bytes;
      size++;
    }
    const taken = this.pending.splice(0, size);
    this.pendingBytes -= bytes;
    return taken;
  }
}
