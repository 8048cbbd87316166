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
}

/** Builds a projection on a database; creates its tables if missing. */
export type ProjectionFactory = (db: Database) => Projection;
