/**
 * A subscriber catching up on a long backlog shares the server: between pages
 * the server answers other requests and hears the subscriber leave, and once
 * it has left no more of the backlog is read for it.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import type { EventStore } from '../../src/store/port.js';
import { createdAndClaimed, rawJobEvent } from '../helpers/raw-events.js';
import { gqlClient, ok, startTestServer, tempDir, wsClient } from '../helpers/server.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** 40 jobs of 500 events each (created, then small metric reports), straight into the store. */
async function writeBacklog(dbPath: string): Promise<void> {
  const store = new SqliteEventStore(dbPath, { synchronous: 'NORMAL' });
  const now = new Date().toISOString();
  try {
    for (let j = 0; j < 40; j++) {
      const jobId = `job_backlog${j}`;
      await store.appendToStream(`job-${jobId}`, [
        ...createdAndClaimed(jobId, now),
        ...Array.from({ length: 498 }, (_, step) =>
          rawJobEvent('JobMetricsReported', { points: [{ name: 'loss', step, value: 1, timestamp: now }] }),
        ),
      ]);
    }
  } finally {
    await store.close();
  }
}

/** Counts the pages of the global log the server reads (the real store, observed). */
function countingReadAll(store: EventStore): { count(): number } {
  let pages = 0;
  const readAll: EventStore['readAll'] = store.readAll.bind(store);
  (store as { readAll: EventStore['readAll'] }).readAll = ((options) => {
    pages++;
    return readAll(options);
  }) as EventStore['readAll'];
  return { count: () => pages };
}

it('given a 20,000-event backlog, a subscriber that leaves after 1,000 has no more of it read for it', async () => {
  const dbPath = join(dir.path, 'backlog.db');
  await writeBacklog(dbPath);
  const server = await startTestServer({ dbPath });
  const client = wsClient(server.url);
  try {
    const pages = countingReadAll(server.trialog.store);
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      const unsubscribe = client.subscribe(
        { query: 'subscription { events { type position } }' },
        {
          next: () => {
            if (++seen === 1000) {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    // Another request is answered while the server could still be reading that backlog: it is not held up
    // until the backlog's end, and by its answer the unsubscribe has been heard.
    ok(await gqlClient(server.url)('{ jobs(first: 1) { totalCount } }'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterLeaving = pages.count();
    await new Promise((resolve) => setTimeout(resolve, 300));

    // 1,000 events are two pages of 500; more may have been read ahead while the client, on a busy machine,
    // was still working through what had been sent (6 once in CI, with other spec files running beside it).
    // Reading the whole backlog for a subscriber that has gone would be 40 pages: a quarter of it is the bound.
    expect(afterLeaving).toBeLessThanOrEqual(10);
    expect(pages.count()).toBe(afterLeaving);
  } finally {
    await client.dispose();
    await server.stop();
  }
}, 60_000);
