/**
 * The read models' own SQLite connection. In embedded mode it is a second
 * connection on the event store's file (the store hands its own to no one);
 * beside EventStoreDB it is a file of the read models alone.
 *
 * Why the same file and not one beside it: an existing database upgrades with
 * nothing to move or rebuild, a backup of the file is still the whole state,
 * and two servers on one store still share one read model. What a file of
 * their own would have bought, appends never waiting for a projection batch's
 * write lock, is already true within one process (better-sqlite3 runs each
 * transaction to its end on the one thread, so the two connections never hold
 * the lock at the same time); between two server processes an append may wait
 * for another process's batch, which is bounded (500 events, 16 MiB) and
 * retried on SQLITE_BUSY as before.
 *
 * Durability is per connection: this one commits with `synchronous=NORMAL`
 * (no fsync per commit; in WAL mode such a commit can only be lost together
 * with what came after it, and a lost one is re-applied from the checkpoint at
 * the next start), while the store's connection keeps the appends' own
 * setting. Nobody switches either back and forth.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

export function openReadModelDb(path: string): SqliteDatabase {
  const readDb = new Database(path);
  readDb.pragma('journal_mode = WAL');
  readDb.pragma('synchronous = NORMAL');
  readDb.pragma('busy_timeout = 5000');
  return readDb;
}
