import type { Database } from 'better-sqlite3';
import type { RecordedEvent } from '../src/store/port.js';

/**
 * A read model kept in SQLite tables. The runner calls `apply` for every
 * event of the log, in order, inside the transaction that also moves the
 * checkpoint, so a read model is never ahead of or behind its checkpoint.
 */
export interface Projection {
  readonly name: string;
  /** Its tables, in the order a rebuild compares them. */
  readonly tables: readonly string[];
  apply(event: RecordedEvent): void;
  /**
   * Writes what `apply` held back, at the end of a batch and inside its
   * transaction (before the checkpoint moves): a projection may keep rows in
   * memory across a batch so that one written by many events is written once.
   */
  flush?(): void;
  /** Forgets what `apply` held back: the batch's transaction failed and will be rolled back. */
  discard?(): void;
}

/** Applies a batch, flushing what projections held back; on failure they forget it (the caller's transaction rolls back). */
export function applyBatch(projections: readonly Projection[], events: readonly RecordedEvent[]): void {
  try {
    for (const event of events) for (const projection of projections) projection.apply(event);
    for (const projection of projections) projection.flush?.();
  } catch (error) {
    for (const projection of projections) projection.discard?.();
    throw error;
  }
}

/** Builds a projection on a database; creates its tables if missing. */
export type ProjectionFactory = (db: Database) => Projection;
