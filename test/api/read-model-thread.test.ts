/**
 * The read models' own file and thread (src/read-model-db.ts, projections/apply-thread.ts): large batches are
 * written on a thread of their own and a mutation still answers only once they are in the read models; the
 * thread failing stops the runner as an in-process failure does; a store written with the read models in its
 * own file is moved to the new layout at start, nothing lost.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openReadModelDb, readModelPathOf } from '../../src/read-model-db.js';
import { claim, createJob, REPORT_METRICS } from '../helpers/jobs.js';
import { errorCode, ok, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const METRIC_COUNT = `query($id: ID!) { job(id: $id) { metrics { name count last { step value } } } }`;

const points = (count: number, name = 'loss') =>
  Array.from({ length: count }, (_, step) => ({ name, step, value: 1 / (step + 1) }));

async function claimedJob(t: TestServer) {
  const job = await createJob(t.gql, { labels: ['thread'] });
  const lease = (await claim(t.gql, { workerId: 'w1', labels: ['thread'] }))!;
  return { jobId: job.id, leaseToken: lease.leaseToken };
}

describe('the read-model file beside the store', () => {
  it('is the store file with .read-models before .db, or appended when the name has no .db', () => {
    expect(readModelPathOf('/data/trialog.db')).toBe('/data/trialog.read-models.db');
    expect(readModelPathOf('/data/store')).toBe('/data/store.read-models.db');
    expect(readModelPathOf(':memory:')).toBe(':memory:');
  });
});

describe('given the read models written on their own thread', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('when a report of 1,000 points answers, then every point reads back, written on the thread', async () => {
    t = await startTestServer({ readModelThread: true });
    const lease = await claimedJob(t);
    const before = { ...t.trialog.runner.batchesWritten };

    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: points(1000) } }));
    const read = ok(await t.gql(METRIC_COUNT, { id: lease.jobId }));

    expect(read.job.metrics).toEqual([{ name: 'loss', count: 1000, last: { step: 999, value: 1 / 1000 } }]);
    expect(t.trialog.runner.batchesWritten.large).toBeGreaterThan(before.large);
  });

  it('when small changes are made, then they are written here and not handed over', async () => {
    t = await startTestServer({ readModelThread: true });
    const before = { ...t.trialog.runner.batchesWritten };

    const lease = await claimedJob(t);
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: points(3) } }));

    expect(t.trialog.runner.batchesWritten.large).toBe(before.large);
    expect(t.trialog.runner.batchesWritten.here).toBeGreaterThan(before.here);
  });

  it(
    'when another Trialog version rebuilt the read models and a large report is made, then it answers ' +
      'INTERNAL_SERVER_ERROR and the runner has failed, as when a batch fails in-process',
    async () => {
      t = await startTestServer({ readModelThread: true });
      const lease = await claimedJob(t);
      const other = new Database(readModelPathOf(t.dbPath));
      other.prepare('UPDATE read_model_version SET version = version + 1').run();
      other.close();

      const answer = await t.gql(REPORT_METRICS, { input: { ...lease, points: points(1000) } });

      expect(errorCode(answer)).toBe('INTERNAL_SERVER_ERROR');
      expect(t.trialog.runner.state).toBe('failed');
    },
  );
});

describe('given a store written when the read models lived in its own file', () => {
  it('when Trialog opens it, then their tables leave the store file and the read models are rebuilt beside it', async () => {
    const dir = tempDir();
    try {
      const dbPath = `${dir.path}/trialog.db`;
      let t = await startTestServer({ dbPath });
      const lease = await claimedJob(t);
      ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: points(5) } }));
      await t.stop();
      // The layout before: the read models' tables and their version in the store's file, none beside it.
      const store = new Database(dbPath);
      store.exec(`CREATE TABLE read_model_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
                  CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY, position TEXT NOT NULL);
                  CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT)`);
      store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${readModelPathOf(dbPath)}${suffix}`, { force: true });

      t = await startTestServer({ dbPath });
      try {
        const read = ok(await t.gql(METRIC_COUNT, { id: lease.jobId }));
        expect(read.job.metrics).toEqual([{ name: 'loss', count: 5, last: { step: 4, value: 1 / 5 } }]);
        const storeFile = new Database(dbPath, { readonly: true });
        const tables = storeFile
          .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
          .all()
          .map((row) => row.name);
        storeFile.close();
        expect(tables).toEqual(['events', 'sqlite_sequence']);
        const readModels = openReadModelDb(readModelPathOf(dbPath));
        expect(readModels.prepare('SELECT count(*) AS n FROM metric_points').get()).toEqual({ n: 5 });
        readModels.close();
      } finally {
        await t.stop();
      }
    } finally {
      dir.remove();
    }
  });
});
