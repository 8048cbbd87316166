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
import type { EventStore, EventSubscription, RecordedEvent } from '../src/store/port.js';
import type { LiveFeed } from '../src/live-feed.js';
import { applyBatch, type Projection, type ProjectionFactory } from './projection.js';
import { eventWeight } from '../src/event-weight.js';
import { batchesOf } from './batches.js';
import { CHECKPOINT_NAME } from './checkpoint.js';
import { assertReadModelVersion, ensureReadModelVersion } from './read-model-version.js';
import { quietLogger, type Logger } from '../src/observability/logger.js';

/** How far the read models are behind the log (for /ready and the projection lag metric). */
export interface ProjectionLag {
  state: 'starting' | 'running' | 'failed' | 'stopped';
  appliedPosition?: string;
  headPosition?: string;
  /** How long ago the oldest event not yet applied was recorded; 0 when caught up. */
  behindSeconds: number;
}

const CHECKPOINT = CHECKPOINT_NAME;
const MAX_BATCH = 500;
/**
 * A batch ends at 16 MiB of event data as well as at 500 events: a catch-up
 * over megabyte events (log batches, training data) then holds one batch of
 * them, not five hundred.
 */
const BATCH_BOUND = { maxWeight: 16 * 1024 * 1024, weigh: eventWeight };

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
  private readonly readCheckpointStatement;
  private readonly writeCheckpointStatement;
  private readonly applyBatchTransaction;
  private readonly durableSynchronous: number;
  private readonly db: Database;

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
    // Read models are rebuilt from the log, so their commits need not wait for the disk: in WAL mode a
    // commit without fsync can only be lost together with everything after it, never before an event
    // it was built from, and a lost one is re-applied from the checkpoint at the next start.
    this.durableSynchronous = db.pragma('synchronous', { simple: true }) as number;
    this.db = db;
    this.applyBatchTransaction = db.transaction((batch: readonly RecordedEvent[]) => {
      // Another server of another version may have dropped the read models to rebuild them: applying this
      // batch to the empty tables and moving the checkpoint here would leave every earlier event out for good.
      assertReadModelVersion(db);
      const checkpoint = this.readCheckpoint();
      if (checkpoint === undefined && this.handled !== undefined) {
        throw new Error(`the read models' checkpoint is gone (this server had applied up to ${this.handled}): another process rebuilt them`);
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
    this.subscription = this.store.subscribeToAll({ after: this.handled });
    this.loop = this.follow(this.subscription).catch((error: unknown) => {
      // A read model that cannot apply the log must not answer as if it could:
      // every waiting and later mutation gets this error until a restart.
      this.log.error({ err: error }, 'projection runner stopped on an error');
      this.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * Called with each batch once the read models include it, before anyone
   * waiting for it is answered: for in-memory caches over the read models.
   */
  onApplied(listener: (batch: readonly RecordedEvent[]) => void): void {
    this.appliedListeners.push(listener);
  }

  private readonly appliedListeners: ((batch: readonly RecordedEvent[]) => void)[] = [];

  /** Resolves once the read models include the event at `position`. */
  waitFor(position: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.handled !== undefined && this.handled >= position) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ position, resolve, reject }));
  }

  /** Resolves once everything in the store when called is in the read models. */
  async catchUp(): Promise<void> {
    const head = await this.store.headPosition();
    if (head !== undefined) await this.waitFor(head);
  }

  /** The runner's state and how far its read models are behind the log's head. */
  async lag(): Promise<ProjectionLag> {
    const state = this.failure ? (this.stopped ? 'stopped' : 'failed') : this.loop ? 'running' : 'starting';
    const appliedPosition = this.handled;
    const headPosition = await this.store.headPosition();
    const lag: ProjectionLag = { state, behindSeconds: 0 };
    if (appliedPosition !== undefined) lag.appliedPosition = appliedPosition;
    if (headPosition !== undefined) lag.headPosition = headPosition;
    if (headPosition !== undefined && (appliedPosition === undefined || appliedPosition < headPosition)) {
      const [oldest] = await this.store.readAll({ after: appliedPosition, maxCount: 1, withData: false, withMetadata: false });
      if (oldest) lag.behindSeconds = Math.max(0, (Date.now() - Date.parse(oldest.timestamp)) / 1000);
    }
    return lag;
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.loop;
    this.fail(new Error('projection runner stopped'));
  }

  private async follow(subscription: EventSubscription): Promise<void> {
    for await (const batch of batchesOf(subscription, MAX_BATCH, BATCH_BOUND)) {
      await this.applyWithRetry(batch);
      for (const listener of this.appliedListeners) listener(batch);
      this.handled = batch[batch.length - 1]!.position;
      this.feed.publish(batch);
      this.releaseWaiters();
    }
  }

  private async applyWithRetry(batch: readonly RecordedEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.db.pragma('synchronous = NORMAL');
        try {
          this.applyBatchTransaction.immediate(batch);
        } finally {
          // The event store shares this connection (embedded mode): its appends stay as durable as configured.
          this.db.pragma(`synchronous = ${this.durableSynchronous}`);
        }
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
