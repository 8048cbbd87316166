/**
 * The read models' own SQLite database. In embedded mode it is a file beside
 * the event store's (`readModelPathOf`); beside EventStoreDB it is the file
 * TRIALOG_DB names.
 *
 * Why a file of its own and not tables in the store's: SQLite lets one
 * connection write a file at a time. With the read models written on a thread
 * of their own (projections/apply-thread.ts), an append on the main thread
 * would otherwise wait, blocking it, for the thread's batch to commit, and the
 * batch for the append. Two servers on one store still share one read model
 * (both find the same file beside the store's). What a backup needs is the
 * store's file alone: the read models are rebuilt from the log when theirs is
 * missing. A store written by a Trialog that kept the read models in the
 * store's file has them built afresh in the new file at the first start; the
 * old tables are dropped from the store's file then (./legacy-read-models.ts).
 *
 * Durability is per connection: this one commits with `synchronous=NORMAL`
 * (no fsync per commit; in WAL mode such a commit can only be lost together
 * with what came after it, and a lost one is re-applied from the checkpoint at
 * the next start), while the store's connection keeps the appends' own
 * setting.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

export function openReadModelDb(path: string): SqliteDatabase {
  const readDb = new Database(path);
  readDb.pragma('journal_mode = WAL');
  readDb.pragma('synchronous = NORMAL');
  readDb.pragma('busy_timeout = 5000');
  // 4 MB rather than better-sqlite3's 16 MB: each connection on the file (this one, the read models' thread's)
  // fills its own cache, and a commit by the other empties it anyway.
  readDb.pragma('cache_size = -4000');
  return readDb;
}

/** The embedded store's read-model file: `trialog.db` → `trialog.read-models.db` (`:memory:` stays in memory). */
export function readModelPathOf(storePath: string): string {
  if (storePath === ':memory:') return storePath;
  return storePath.endsWith('.db')
    ? `${storePath.slice(0, -'.db'.length)}.read-models.db`
    : `${storePath}.read-models.db`;
}
