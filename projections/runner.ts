/**
 * Follows the global log and keeps the read models up to date.
 *
 * - Each batch of events is applied in one IMMEDIATE transaction together with
 *   the checkpoint, and events at or before the checkpoint read inside that
 *   transaction are skipped. So a crash never leaves a half-applied batch,
 *   and when several processes share one read-model database (two servers on
 *   one SQLite file) each event is applied exactly once, by whichever runner
 *   gets there first.
 * - Every runner, whoever applied the batch, then publishes it to its own
 *   process's live feed: subscriptions are fed from the log, not from the
 *   mutation that wrote it, so every server sees every change.
 * - `waitFor(position)` is how a mutation answers only after the read models
 *   have caught up with its own events (read-your-writes).
 */
import type { Database } from 'better-sqlite3';
import type { EventStore, EventSubscription, RecordedEvent, SubscriptionState } from '../src/store/port.js';
import type { LiveFeed } from '../src/live-feed.js';
import { applyBatch, type Projection, type ProjectionFactory } from './projection.js';
import { eventWeight } from '../src/event-weight.js';
import { batchesOf } from './batches.js';
import { CHECKPOINT_NAME } from './checkpoint.js';
import { assertReadModelVersion, ensureReadModelVersion } from './read-model-version.js';
import { quietLogger, type Logger } from '../src/observability/logger.js';
import { ReadModelsBehindError } from './read-models-behind.js';

const CHECKPOINT = CHECKPOINT_NAME;
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
  readonly projections: Projection[];
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
  private readonly readCheckpointStatement;
  private readonly writeCheckpointStatement;
  private readonly applyBatchTransaction;

  constructor(
    private readonly store: EventStore,
    db: Database,
    factories: readonly ProjectionFactory[],
    private readonly feed: LiveFeed,
    private readonly log: Pick<Logger, 'error'> = quietLogger(),
  ) {
    // Before any projection prepares its statements: tables of another shape are dropped and rebuilt from the log.
    ensureReadModelVersion(db);
    this.projections = factories.map((make) => make(db));
    this.readCheckpointStatement = db.prepare<[string], { position: string }>(
      'SELECT position FROM projection_checkpoints WHERE name = ?',
    );
    this.writeCheckpointStatement = db.prepare(
      `INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
    );
    this.applyBatchTransaction = db.transaction((batch: readonly RecordedEvent[]) => {
      // Another server of another version may have dropped the read models to rebuild them: applying this
      // batch to the empty tables and moving the checkpoint here would leave every earlier event out for good.
      assertReadModelVersion(db);
      const checkpoint = this.readCheckpoint();
      if (checkpoint === undefined && this.handled !== undefined) {
        throw new Error(
          `the read models' checkpoint is gone (this server had applied up to ${this.handled}): another process rebuilt them`,
        );
      }
      const fresh = checkpoint === undefined ? batch : batch.filter((e) => e.position > checkpoint);
      if (fresh.length === 0) return;
      applyBatch(this.projections, fresh);
      this.writeCheckpointStatement.run(CHECKPOINT, fresh[fresh.length - 1]!.position);
    });
  }

  /** The position up to which this process has applied (or seen applied) and published. */
  get position(): string | undefined {
    return this.handled;
  }

  readCheckpoint(): string | undefined {
    return this.readCheckpointStatement.get(CHECKPOINT)?.position;
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
    this.fail(new Error('projection runner stopped'));
  }

  private async follow(subscription: EventSubscription): Promise<void> {
    for await (const batch of batchesOf(subscription, MAX_BATCH, BATCH_BOUND)) {
      this.noteHead(batch[batch.length - 1]!.position);
      await this.applyWithRetry(batch);
      for (const listener of this.appliedListeners) listener(batch);
      this.handled = batch[batch.length - 1]!.position;
      this.forgetApplied();
      this.feed.publish(batch);
      this.releaseWaiters();
    }
  }

  private async applyWithRetry(batch: readonly RecordedEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Its durability is the read models' connection's own (src/read-model-db.ts): nothing to switch here.
        this.applyBatchTransaction.immediate(batch);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') && attempt < 50) {
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
          continue;
        }
        throw error;
      }
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
