/**
 * Follows the global log and keeps the read models up to date.
 *
 * - Each batch of events is applied in one IMMEDIATE transaction together with
 *   the checkpoint (./read-model-writer.ts), on this thread or on one of its
 *   own (./apply-thread.ts), one batch at a time. So a crash never leaves a
 *   half-applied batch, and when several processes share one read-model
 *   database (two servers on one store) each event is applied exactly once,
 *   by whichever runner gets there first.
 * - Every runner, whoever applied the batch, then publishes it to its own
 *   process's live feed: subscriptions are fed from the log, not from the
 *   mutation that wrote it, so every server sees every change.
 * - `waitFor(position)` is how a mutation answers only after the read models
 *   have caught up with its own events (read-your-writes).
 */
import type { Database } from 'better-sqlite3';
import type { EventStore, EventSubscription, RecordedEvent, SubscriptionState } from '../src/store/port.js';
import type { LiveFeed } from '../src/live-feed.js';
import type { ProjectionFactory } from './projection.js';
import { eventWeight } from '../src/event-weight.js';
import { batchesOf } from './batches.js';
import { ReadModelWriter, type BatchApplier } from './read-model-writer.js';
import { quietLogger, type Logger } from '../src/observability/logger.js';
import { ReadModelsBehindError } from './read-models-behind.js';

const MAX_BATCH = 500;
/**
 * A batch ends at 16 MiB of event data as well as at 500 events: a catch-up
 * over megabyte events (log batches, training data) then holds one batch of
 * them, not five hundred.
 */
const BATCH_BOUND = { maxWeight: 16 * 1024 * 1024, weigh: eventWeight };

/**
 * Where the runner is: `starting` until it has caught up with the log as it
 * stood when it started, `running` while it follows the log, `reconnecting`
 * while the store's subscription is lost and being retried (EventStoreDB;
 * the runner resumes by itself once the store has it again), `failed` once a
 * batch could not be applied (until a restart), `stopped` once closed.
 */
export type RunnerState = 'starting' | 'running' | 'reconnecting' | 'failed' | 'stopped';

export interface RunnerLag {
  state: RunnerState;
  /** The last position the read models include (none: nothing applied yet). */
  appliedPosition?: string;
  /** The log's head as the store answered just now (none: an empty log). */
  headPosition?: string;
  /** 0 when the read models include the head; else how long this runner has known of an event it has not applied. */
  behindSeconds: number;
}

/**
 * Heads seen and not yet applied, each with when it was first seen, oldest
 * first. At most `MAX_SIGHTINGS`: past it the newest sighting's position is
 * raised instead of adding one, which can only make the lag read longer.
 */
const MAX_SIGHTINGS = 64;

interface Sighting {
  position: string;
  seenAt: number;
}

interface Waiter {
  position: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ProjectionRunner {
  private handled: string | undefined;
  private waiters: Waiter[] = [];
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private failure: Error | undefined;
  private stopped = false;
  private caughtUpAtStart = false;
  /** What the store last said of its subscription (a store that never says is live). */
  private storeSubscription: SubscriptionState = 'live';
  private unapplied: Sighting[] = [];
  /** Builds the read models' tables on this process's connection, and writes the batches `applyLargeWith` does not take. */
  private readonly writer: ReadModelWriter;
  private large: { applier: BatchApplier; minBytes: number } | undefined;

  constructor(
    private readonly store: EventStore,
    db: Database,
    factories: readonly ProjectionFactory[],
    private readonly feed: LiveFeed,
    private readonly log: Pick<Logger, 'error'> = quietLogger(),
  ) {
    this.writer = new ReadModelWriter(db, factories);
  }

  /**
   * Writes the batches of at least `minBytes` of events through `applier` (another thread's connection on the
   * same read models, see ./apply-thread.ts) rather than this connection. Before `start`; `stop` closes it.
   *
   * Only large ones: handing a batch over costs a round trip between threads, and each commit by another
   * connection empties this connection's page cache (SQLite's rule in WAL mode), so the queries that run here
   * read their pages again. Measured (bench, trial lifecycle with 8 workers): every batch on the thread cost
   * 1.5 ms more CPU per trial than none; a report of 1,000 points saved a fifth of the main thread.
   */
  applyLargeWith(applier: BatchApplier, minBytes: number): void {
    if (this.loop) throw new Error('applyLargeWith after start');
    this.large = { applier, minBytes };
  }

  /** Batches written on this connection, and through `applyLargeWith`'s applier (for tests and profiles). */
  readonly batchesWritten = { here: 0, large: 0 };

  private applierFor(batch: readonly RecordedEvent[]): BatchApplier {
    if (this.large) {
      let bytes = 0;
      for (const event of batch) {
        bytes += eventWeight(event);
        if (bytes >= this.large.minBytes) {
          this.batchesWritten.large++;
          return this.large.applier;
        }
      }
    }
    this.batchesWritten.here++;
    return this.writer;
  }

  /** The position up to which this process has applied (or seen applied) and published. */
  get position(): string | undefined {
    return this.handled;
  }

  readCheckpoint(): string | undefined {
    return this.writer.readCheckpoint();
  }

  start(): void {
    if (this.loop) return;
    this.handled = this.readCheckpoint();
    if (this.handled !== undefined) {
      try {
        this.store.normalizePosition(this.handled);
      } catch {
        throw new Error(
          `the read models were built from another event store (checkpoint ${this.handled}); ` +
            'point TRIALOG_DB at a fresh file to rebuild them from this store',
        );
      }
    }
    this.subscription = this.store.subscribeToAll({
      after: this.handled,
      // The store retries by itself (and logs each retry); readiness only needs to know it is not following the log.
      onStateChange: (state) => (this.storeSubscription = state),
    });
    this.loop = this.follow(this.subscription).catch((error: unknown) => {
      // A read model that cannot apply the log must not answer as if it could:
      // every waiting and later mutation gets this error until a restart.
      this.log.error({ err: error }, 'projection runner stopped on an error');
      this.fail(error instanceof Error ? error : new Error(String(error)));
    });
    // Running once the log as it stood at start is in the read models; a store that cannot say keeps it starting.
    this.catchUp().then(
      () => (this.caughtUpAtStart = true),
      () => undefined,
    );
  }

  get state(): RunnerState {
    if (this.stopped) return 'stopped';
    if (this.failure) return 'failed';
    if (this.storeSubscription === 'retrying') return 'reconnecting';
    return this.loop && this.caughtUpAtStart ? 'running' : 'starting';
  }

  /**
   * How far the read models are behind the log: reads the store's head, so a
   * store that does not answer makes this reject (or never settle: callers
   * bound the wait). For readiness and the projection-lag metric.
   */
  async lag(): Promise<RunnerLag> {
    const head = await this.store.headPosition();
    if (head !== undefined) this.noteHead(head);
    const applied = this.handled;
    const behind = this.unapplied[0];
    return {
      state: this.state,
      ...(applied === undefined ? {} : { appliedPosition: applied }),
      ...(head === undefined ? {} : { headPosition: head }),
      behindSeconds: behind ? Math.max(0, (Date.now() - behind.seenAt) / 1000) : 0,
    };
  }

  /** Remembers that the log reaches `position`, and since when, until the read models include it. */
  private noteHead(position: string): void {
    if (this.handled !== undefined && position <= this.handled) return;
    const newest = this.unapplied.at(-1);
    if (newest && position <= newest.position) return;
    if (newest && this.unapplied.length >= MAX_SIGHTINGS) newest.position = position;
    else this.unapplied.push({ position, seenAt: Date.now() });
  }

  private forgetApplied(): void {
    const handled = this.handled;
    if (handled === undefined) return;
    let applied = 0;
    while (applied < this.unapplied.length && this.unapplied[applied]!.position <= handled) applied++;
    if (applied > 0) this.unapplied.splice(0, applied);
  }

  /**
   * Called with each batch once the read models include it, before anyone
   * waiting for it is answered: for in-memory caches over the read models.
   */
  onApplied(listener: (batch: readonly RecordedEvent[]) => void): void {
    this.appliedListeners.push(listener);
  }

  private readonly appliedListeners: ((batch: readonly RecordedEvent[]) => void)[] = [];

  /**
   * Resolves once the read models include the event at `position`. With `timeoutMs`, rejects with
   * ReadModelsBehindError once that has passed first (the event is in the log all the same).
   */
  waitFor(position: string, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.handled !== undefined && this.handled >= position) return Promise.resolve();
    this.noteHead(position); // a mutation wrote it: the log reaches it now
    const { timeoutMs } = options;
    return new Promise((resolve, reject) => {
      if (timeoutMs === undefined) {
        this.waiters.push({ position, resolve, reject });
        return;
      }
      const waiter: Waiter = {
        position,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ReadModelsBehindError(position, timeoutMs, this.handled));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves once everything in the store when called is in the read models. */
  async catchUp(): Promise<void> {
    const head = await this.store.headPosition();
    if (head !== undefined) await this.waitFor(head);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.loop;
    await this.large?.applier.close();
    this.fail(new Error('projection runner stopped'));
  }

  private async follow(subscription: EventSubscription): Promise<void> {
    for await (const batch of batchesOf(subscription, MAX_BATCH, BATCH_BOUND)) {
      this.noteHead(batch[batch.length - 1]!.position);
      await this.applierFor(batch).apply(batch, this.handled);
      for (const listener of this.appliedListeners) listener(batch);
      this.handled = batch[batch.length - 1]!.position;
      this.forgetApplied();
      this.feed.publish(batch);
      this.releaseWaiters();
    }
  }

  private releaseWaiters(): void {
    const handled = this.handled;
    if (handled === undefined) return;
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= handled) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.waiters = [];
  }
}
