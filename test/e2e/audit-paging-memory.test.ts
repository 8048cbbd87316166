/**
 * Audit pages over megabyte events cost a page, not the log: a real server
 * process on a log of 40, then 400 events of about 1 MiB each (a chatty job:
 * its creation with 1 MiB of training data, then 1 MiB log batches), its peak
 * memory measured around each request (the kernel's high-water mark, reset
 * before it). Before pages read only what they select, `events(first: 1000)
 * { type }` over such a log parsed every event's data and killed the server.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKind } from '../../src/domain/job/kind.js';
import { jobData } from '../../src/app/job-ids.js';
import { defaultLimits } from '../../src/limits.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { peakDuring } from '../helpers/memory.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { gqlClient, ok, tempDir, type Gql } from '../helpers/server.js';

const MiB = 1024 * 1024;
const SMALL = 40;
const LARGE = 400;
/**
 * Well above a page's cost (a 16 MiB page of data: about 80 MiB), far below reading every event's data
 * at the large size: about 800 MiB for a page of types, and 2.9 GB for a page of data, before pages
 * read only what they select (measured on the old code at 500 events: 977 MiB and 2.9 GB).
 */
const GROWTH_BOUND_MIB = 200;
/**
 * Ten times the log may cost a little more (a thousand headers), never the tenfold data. Wide, since
 * where the collector runs moves a page's peak by tens of MiB (a 16 MiB page measured 27 to 88 MiB).
 */
const SCALING_SLACK_MIB = 128;
const JOB_ID = 'job_chatty';

/** A log of `events` events of about 1 MiB each, all on one job's stream, written with the store itself. */
async function writeChattyJob(dbPath: string, events: number): Promise<void> {
  const store = new SqliteEventStore(dbPath, { synchronous: 'NORMAL' });
  const metadata = (type: string) => ({
    actor: 'test',
    correlationId: 'big',
    causationId: 'big',
    schemaVersion: jobKind.eventVersion(type),
  });
  const now = new Date().toISOString();
  const lines = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(62_500, 'x')); // 1,000,000 characters
  const log = [
    {
      type: 'JobCreated',
      data: jobData(JOB_ID, { trainingData: 'd'.repeat(1_000_000) }),
    },
    {
      type: 'JobClaimed',
      data: {
        workerId: 'w',
        leaseTokenHash: 'h',
        leaseExpiresAt: now,
        leaseSeconds: 300,
        attempt: 1,
        takenOverFrom: null,
      },
    },
    ...Array.from({ length: events - 2 }, (_, batch) => ({
      type: 'JobLogAppended',
      data: { stream: 'STDOUT', firstOffset: batch * lines.length, lines, sequence: batch },
    })),
  ];
  try {
    for (let i = 0; i < log.length; i += 25) {
      const chunk = log
        .slice(i, i + 25)
        .map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: metadata(e.type) }));
      await store.appendToStream(`job-${JOB_ID}`, chunk);
    }
  } finally {
    await store.close();
  }
}

/** A server process on the log, with its read models already built (by an earlier process), so that it starts idle. */
async function serverOn(events: number): Promise<{ server: ServerProcess; gql: Gql; remove(): void }> {
  const dir = tempDir('trialog-paging-');
  const dbPath = join(dir.path, 'trialog.db');
  await writeChattyJob(dbPath, events);
  const env = { EVENTSTORE_URL: '' };
  await (await startServerProcess(dbPath, env)).kill('SIGTERM'); // catches the read models up, then leaves
  const server = await startServerProcess(dbPath, env);
  return { server, gql: gqlClient(server.url), remove: dir.remove };
}

/** The request's answer, and how far the server's peak resident memory rose above where it stood before. */
async function measured<T>(
  server: ServerProcess,
  request: () => Promise<T>,
): Promise<{ answer: T; growthMiB: number }> {
  let answer: T | undefined;
  const { before, peak } = await peakDuring(server.child.pid!, async () => {
    answer = await request();
  });
  return { answer: answer as T, growthMiB: peak - before };
}

const TYPES_PAGE = `{ events(first: 1000) { edges { node { id type } } pageInfo { hasNextPage } } }`;
const DATA_PAGE = `query($after: String) { events(first: 1000, after: $after) { edges { node { id type data } } pageInfo { hasNextPage endCursor } } }`;
const HISTORY_TYPES = `{ job(id: "${JOB_ID}") { history(first: 1000) { edges { node { type revision } } pageInfo { hasNextPage } } } }`;
const HISTORY_DATA = `{ job(id: "${JOB_ID}") { history(first: 1000) { edges { node { type data } } pageInfo { hasNextPage } } } }`;

type Growth = Record<'types' | 'data' | 'historyTypes' | 'historyData', number>;

/** The four requests at one size, each checked for what it answers, with the memory each cost. */
async function growthAt(events: number, at: { server: ServerProcess; gql: Gql }): Promise<Growth> {
  const { server, gql } = at;
  const types = await measured(server, async () => ok(await gql(TYPES_PAGE)).events);
  expect(types.answer.edges).toHaveLength(events);
  expect(types.answer.pageInfo.hasNextPage).toBe(false);

  const data = await measured(server, async () => ok(await gql(DATA_PAGE, { after: null })).events);
  const perPage = Math.floor(defaultLimits.eventPageBytes / MiB); // events of just under 1 MiB of stored JSON
  expect(data.answer.edges.length).toBeGreaterThanOrEqual(perPage - 1);
  expect(data.answer.edges.length).toBeLessThanOrEqual(perPage + 1);
  expect(data.answer.pageInfo.hasNextPage).toBe(true);
  expect(data.answer.edges[0].node.data.trainingData).toHaveLength(1_000_000);

  const historyTypes = await measured(server, async () => ok(await gql(HISTORY_TYPES)).job.history);
  expect(historyTypes.answer.edges.map((e: any) => e.node.revision)).toEqual(
    Array.from({ length: events }, (_, i) => i),
  );
  expect(historyTypes.answer.pageInfo.hasNextPage).toBe(false);

  const historyData = await measured(server, async () => ok(await gql(HISTORY_DATA)).job.history);
  expect(historyData.answer.edges.length).toBe(data.answer.edges.length);
  expect(historyData.answer.pageInfo.hasNextPage).toBe(true);

  return {
    types: types.growthMiB,
    data: data.growthMiB,
    historyTypes: historyTypes.growthMiB,
    historyData: historyData.growthMiB,
  };
}

describe('audit pages over megabyte events', () => {
  let small: Awaited<ReturnType<typeof serverOn>>;
  let large: Awaited<ReturnType<typeof serverOn>>;

  beforeAll(async () => {
    small = await serverOn(SMALL);
    large = await serverOn(LARGE);
  }, 120_000);
  afterAll(async () => {
    for (const at of [small, large]) {
      await at?.server.kill('SIGTERM');
      at?.remove();
    }
  });

  it(`given ${SMALL} and ${LARGE} events of 1 MiB, a thousand-event page of types, a page of data and a job's history grow the server by a bounded amount that does not scale with the log`, async () => {
    const atSmall = await growthAt(SMALL, small);
    const atLarge = await growthAt(LARGE, large);
    console.log(
      `server peak growth in MiB at ${SMALL} events: ${JSON.stringify(atSmall)}; at ${LARGE}: ${JSON.stringify(atLarge)}`,
    );
    for (const request of Object.keys(atLarge) as (keyof Growth)[]) {
      expect(atLarge[request], request).toBeLessThan(GROWTH_BOUND_MIB);
      expect(atLarge[request] - atSmall[request], request).toBeLessThan(SCALING_SLACK_MIB);
    }
  }, 120_000);

  it('when a client pages on through the pages of data, it visits every event once, in order', async () => {
    const all = ok(await small.gql(TYPES_PAGE)).events.edges.map((e: any) => e.node.id);
    const visited: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < SMALL; pages++) {
      const page: any = ok(await small.gql(DATA_PAGE, { after })).events;
      visited.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(visited).toEqual(all);
  }, 60_000);
});
