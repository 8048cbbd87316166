/**
 * A mutation answers once the read models include its events, but not forever
 * (TRIALOG_READ_MODEL_WAIT_SECONDS). The read models here are held back for
 * real: the server keeps its events in one SQLite file and its read models in
 * another, as it does on EventStoreDB (and on EventStoreDB itself when
 * EVENTSTORE_URL is set), and another connection holds the read models' write
 * lock, so the projection runner cannot apply what was recorded.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { EventStoreDbEventStore } from '../../src/store/eventstoredb-store.js';
import type { EventStore } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { openTrialog, type Trialog } from '../../src/trialog.js';
import { runMain } from '../helpers/process.js';
import { gqlClient, ok, tempDir } from '../helpers/server.js';

/** The stores the events may live in: SQLite always, EventStoreDB when EVENTSTORE_URL points at one. */
const eventStores: [string, (dir: string) => EventStore][] = [
  ['SQLite', (dir) => new SqliteEventStore(join(dir, 'events.db'))],
];
const esdbUrl = process.env.EVENTSTORE_URL;
if (esdbUrl) eventStores.push([`EventStoreDB at ${esdbUrl}`, () => new EventStoreDbEventStore(esdbUrl)]);

describe.each(eventStores)('a mutation whose read models lag, events in %s', (_, openEvents) => {
  let dir: { path: string; remove(): void };
  let trialog: Trialog | undefined;
  let server: RunningServer | undefined;
  let lock: Database.Database | undefined;

  afterEach(async () => {
    if (lock?.inTransaction) lock.exec('ROLLBACK');
    lock?.close();
    await server?.close();
    await trialog?.close();
    dir.remove();
  });

  it(
    'given the read models locked by another connection, when a job is created, then after the bound it answers that the change ' +
      'was recorded (INTERNAL_SERVER_ERROR, reason READ_MODELS_BEHIND, its position); once the lock is gone the job reads back',
    { timeout: 60_000 },
    async () => {
      dir = tempDir();
      const readModels = join(dir.path, 'read-models.db');
      const events = openEvents(dir.path);
      trialog = await openTrialog(
        { dbPath: readModels, eventStoreUrl: undefined, synchronous: 'FULL', readModelWaitSeconds: 1 },
        { eventStore: events },
      );
      server = await startServer(trialog, { port: 0, host: '127.0.0.1' });
      const gql = gqlClient(server.url);

      lock = new Database(readModels);
      lock.exec('BEGIN IMMEDIATE');
      const answer = await gql(`mutation { createJob(input: { labels: ["behind"] }) { id } }`);

      const error = answer.errors?.[0];
      expect(error?.extensions).toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
        reason: 'READ_MODELS_BEHIND',
        recorded: true,
      });
      expect(error?.message).toMatch(/was recorded .*do not repeat it/);
      const position = (error?.extensions as { position: string }).position;
      const [recorded] = await events.readAll({ after: trialog.runner.position, filter: { types: ['JobCreated'] } });
      expect(recorded?.position).toBe(position);

      lock.exec('COMMIT');
      await trialog.runner.waitFor(position);
      const jobId = (recorded!.data as { jobId: string }).jobId;
      expect(ok(await gql(`query($id: ID!) { job(id: $id) { labels } }`, { id: jobId })).job).toEqual({
        labels: ['behind'],
      });
    },
  );
});

describe('TRIALOG_READ_MODEL_WAIT_SECONDS', () => {
  it('given a value that is not a whole number of seconds, when the server starts, then it exits 2 with one line naming it', async () => {
    const dir = tempDir();
    try {
      const { exit, output } = runMain({ TRIALOG_DB: join(dir.path, 't.db'), TRIALOG_READ_MODEL_WAIT_SECONDS: '0' });
      expect(await exit).toBe(2);
      expect(output().trim().split('\n')).toEqual([
        expect.stringMatching(/TRIALOG_READ_MODEL_WAIT_SECONDS must be a whole number/),
      ]);
    } finally {
      dir.remove();
    }
  }, 60_000);
});
