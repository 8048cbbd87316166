/**
 * Trialog kept the read models in the event store's own file until they moved
 * to a file beside it (src/read-model-db.ts). At the first start after that,
 * the new file is built from the log and the old tables are dropped from the
 * store's file, so that it holds the log alone and its space is reused by it.
 *
 * The store's file is recognised by its `events` table and the old read models
 * by their version table; everything else in it is theirs (the store's own are
 * `events` and SQLite's `sqlite_sequence`). One IMMEDIATE transaction: a second
 * server starting at the same time finds nothing left to drop.
 */
import Database from 'better-sqlite3';

const STORE_TABLES = new Set(['events', 'sqlite_sequence']);

/** Drops the read-model tables an older Trialog left in the store's file; answers how many. */
export function dropLegacyReadModels(storePath: string): number {
  if (storePath === ':memory:') return 0;
  const db = new Database(storePath);
  try {
    db.pragma('busy_timeout = 5000');
    return db
      .transaction(() => {
        const tables = db
          .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all()
          .map((row) => row.name);
        if (!tables.includes('events') || !tables.includes('read_model_version')) return 0;
        const legacy = tables.filter((name) => !STORE_TABLES.has(name));
        for (const name of legacy) db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
        return legacy.length;
      })
      .immediate();
  } finally {
    db.close();
  }
}
