/**
 * Writes batches of the log into the read models: each batch in one IMMEDIATE
 * transaction together with the checkpoint, skipping the events at or before
 * the checkpoint read inside that transaction. So a crash never leaves a
 * half-applied batch, and when several processes share one read-model
 * database each event is applied exactly once, by whichever gets there first.
 *
 * The projection runner owns the order of batches and who waits for them; this
 * is only the write, so that it can run on the runner's thread or on a thread
 * of its own (./apply-thread.ts) with the same code.
 */
import type { Database } from 'better-sqlite3';
import type { RecordedEvent } from '../src/store/port.js';
import { applyBatch, type ProjectionFactory } from './projection.js';
import { CHECKPOINT_NAME } from './checkpoint.js';
import { assertReadModelVersion, ensureReadModelVersion } from './read-model-version.js';

/** Applies batches of the log to the read models, wherever it runs. */
export interface BatchApplier {
  /**
   * Applies the batch's events after the checkpoint. `appliedBefore`: where the caller had applied up to
   * (none: nothing yet), so a checkpoint that vanished since (another process rebuilt the read models) stops it.
   */
  apply(batch: readonly RecordedEvent[], appliedBefore: string | undefined): Promise<void>;
  close(): Promise<void>;
}

/** How often a batch is retried while another process holds the read models' write lock. */
const BUSY_ATTEMPTS = 50;

export class ReadModelWriter implements BatchApplier {
  private readonly transaction;
  private readonly readCheckpointStatement;

  constructor(db: Database, factories: readonly ProjectionFactory[]) {
    // Before any projection prepares its statements: tables of another shape are dropped and rebuilt from the log.
    ensureReadModelVersion(db);
    const projections = factories.map((make) => make(db));
    this.readCheckpointStatement = db.prepare<[string], { position: string }>(
      'SELECT position FROM projection_checkpoints WHERE name = ?',
    );
    const writeCheckpoint = db.prepare(
      `INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
    );
    this.transaction = db.transaction((batch: readonly RecordedEvent[], appliedBefore: string | undefined) => {
      // Another server of another version may have dropped the read models to rebuild them: applying this
      // batch to the empty tables and moving the checkpoint here would leave every earlier event out for good.
      assertReadModelVersion(db);
      const checkpoint = this.readCheckpoint();
      if (checkpoint === undefined && appliedBefore !== undefined) {
        throw new Error(
          `the read models' checkpoint is gone (this server had applied up to ${appliedBefore}): another process rebuilt them`,
        );
      }
      const fresh = checkpoint === undefined ? batch : batch.filter((e) => e.position > checkpoint);
      if (fresh.length === 0) return;
      applyBatch(projections, fresh);
      writeCheckpoint.run(CHECKPOINT_NAME, fresh[fresh.length - 1]!.position);
    });
  }

  readCheckpoint(): string | undefined {
    return this.readCheckpointStatement.get(CHECKPOINT_NAME)?.position;
  }

  async apply(batch: readonly RecordedEvent[], appliedBefore: string | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Its durability is the read models' connection's own (src/read-model-db.ts): nothing to switch here.
        this.transaction.immediate(batch, appliedBefore);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') && attempt < BUSY_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
          continue;
        }
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    // The database is its opener's to close.
  }
}
