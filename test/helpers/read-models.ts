/** Rebuilds the read models from position zero and dumps tables for comparison. */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { LiveFeed } from '../../src/live-feed.js';
import type { EventStore } from '../../src/store/port.js';
import { readModelProjections } from '../../src/trialog.js';
import { rebuildReadModels as rebuild } from '../../projections/rebuild.js';
import { ProjectionRunner } from '../../projections/runner.js';

/** Both ways of building read models must agree: the batched rebuild and the live runner. */
export async function rebuildReadModels(
  store: EventStore,
  via: 'rebuild' | 'runner' = 'rebuild',
): Promise<SqliteDatabase> {
  const db = new Database(':memory:');
  if (via === 'rebuild') {
    await rebuild(store, db, readModelProjections);
    return db;
  }
  const runner = new ProjectionRunner(store, db, readModelProjections, new LiveFeed());
  runner.start();
  await runner.catchUp();
  await runner.stop();
  return db;
}

export function readModelTables(db: SqliteDatabase): string[] {
  return [...readModelProjections.flatMap((make) => make(db).tables), 'projection_checkpoints'];
}

/** Every row of a table, in a canonical order. */
export function dumpTable(db: SqliteDatabase, table: string): string[] {
  return db
    .prepare(`SELECT * FROM ${table}`)
    .all()
    .map((row) => JSON.stringify(row))
    .sort();
}
