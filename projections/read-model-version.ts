/**
 * The shape of the read-model tables has a version. A database whose read
 * models were built by a Trialog with another shape has them dropped and
 * rebuilt from the log at start (they are projections: nothing is lost), so
 * an upgrade never runs new queries against old tables.
 */
import type { Database, Statement } from 'better-sqlite3';
import { CHECKPOINT_NAME, ensureCheckpointTable } from './checkpoint.js';

/**
 * Raise it whenever a read-model table's columns or meaning change.
 * 2: jobs with a light state and their large fields in columns.
 * 3: metric points record the revision that stored them; the metric_series index.
 * 5: metric points whose step GraphQL's Int cannot carry are left out (an old log may hold one).
 * 6: a job's state records why it was pruned (`pruning`).
 * 7: block summaries of metric points (`metric_blocks`), so `buckets` reads cost O(buckets), not O(points).
 * 8: a search's trials' small hyperparameter values (`trial_values`), so a TPE proposal never parses job states.
 */
export const READ_MODEL_VERSION = 8;

/** Tables that are not read models: the embedded event store's own, and this bookkeeping. */
const KEPT_TABLES = new Set(['events', 'sqlite_sequence', 'projection_checkpoints', 'read_model_version']);

/**
 * Drops the read models when they are of another version (or of none, yet
 * exist) and rewinds the checkpoint to the start of the log. One IMMEDIATE
 * transaction: a second process starting at the same time sees the new
 * version and leaves the tables alone.
 */
export function ensureReadModelVersion(db: Database): { rebuilt: boolean } {
  ensureCheckpointTable(db);
  db.exec(
    'CREATE TABLE IF NOT EXISTS read_model_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
  );
  return db
    .transaction(() => {
      const stored = db.prepare<[], { version: number }>('SELECT version FROM read_model_version WHERE id = 1').get();
      if (stored?.version === READ_MODEL_VERSION) return { rebuilt: false };
      const tables = db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((row) => row.name)
        .filter((name) => !KEPT_TABLES.has(name));
      for (const name of tables) db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
      db.prepare('DELETE FROM projection_checkpoints WHERE name = ?').run(CHECKPOINT_NAME);
      db.prepare(
        'INSERT INTO read_model_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
      ).run(READ_MODEL_VERSION);
      return { rebuilt: tables.length > 0 };
    })
    .immediate();
}

/**
 * Throws when the read models in the database are no longer of this version:
 * another Trialog (of another version) on the same file dropped and rebuilt
 * them. A runner checks it in every batch's transaction, so it stops with
 * this error rather than write rows of its shape, or a checkpoint of its
 * position, into tables that are being rebuilt from the start of the log.
 */
export function assertReadModelVersion(db: Database): void {
  const stored = versionQuery(db).get();
  if (stored?.version !== READ_MODEL_VERSION) {
    throw new ReadModelVersionError(
      `the read models are now of version ${stored?.version ?? 'none'}, this server's are of version ${READ_MODEL_VERSION}: ` +
        'another Trialog on this database rebuilt them; restart this server on the same version as the others',
    );
  }
}

/** Prepared once per database: the check runs in every batch's transaction. */
const versionQueries = new WeakMap<Database, Statement<[], { version: number }>>();
function versionQuery(db: Database): Statement<[], { version: number }> {
  let query = versionQueries.get(db);
  if (!query) {
    query = db.prepare<[], { version: number }>('SELECT version FROM read_model_version WHERE id = 1');
    versionQueries.set(db, query);
  }
  return query;
}

export class ReadModelVersionError extends Error {
  override name = 'ReadModelVersionError';
}
