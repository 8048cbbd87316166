/** The store the configuration names, for commands that work on the log without serving it. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { TrialogConfig } from '../config.js';
import { EventStoreDbEventStore } from '../store/eventstoredb-store.js';
import type { EventStore } from '../store/port.js';
import { SqliteEventStore } from '../store/sqlite-store.js';
import { openReadModelDb, readModelPathOf } from '../read-model-db.js';

export interface CliStore {
  store: EventStore;
  /** How many events the log holds, when the store can say cheaply (for progress). */
  size(): Promise<number | undefined>;
  /** The live read models' database. */
  readModels(): SqliteDatabase;
  close(): Promise<void>;
}

export function openCliStore(config: TrialogConfig): CliStore {
  if (config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true });
  if (config.eventStoreUrl) {
    const store = new EventStoreDbEventStore(config.eventStoreUrl, { maxAppendBytes: config.maxAppendBytes });
    let readDb: SqliteDatabase | undefined;
    return {
      store,
      size: async () => undefined,
      readModels: () => (readDb ??= openReadModelDb(config.dbPath)),
      async close() {
        readDb?.close();
        await store.close();
      },
    };
  }
  const store = new SqliteEventStore(config.dbPath, {
    synchronous: config.synchronous,
    maxAppendBytes: config.maxAppendBytes,
  });
  let readDb: SqliteDatabase | undefined;
  return {
    store,
    // Positions are a gapless AUTOINCREMENT (events are never deleted): the head is the count.
    size: async () => Number((await store.headPosition()) ?? 0),
    // The read models' file beside the store's, as the server's read side has.
    readModels: () => (readDb ??= openReadModelDb(readModelPathOf(config.dbPath))),
    async close() {
      readDb?.close();
      await store.close();
    },
  };
}
