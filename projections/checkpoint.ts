/** Where the read models stand in the log: one row, moved in the same transaction as each batch. */
import type { Database } from 'better-sqlite3';

export const CHECKPOINT_NAME = 'read_models';

export function ensureCheckpointTable(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name TEXT PRIMARY KEY, position TEXT NOT NULL) WITHOUT ROWID`);
}
