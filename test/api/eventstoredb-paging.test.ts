/**
 * Paging one EventStoreDB stream, without a server: src/store/eventstoredb/paging.ts
 * over an in-memory stream whose events sit between other streams' events in
 * the global log. Against a real server: store.eventstoredb.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { firstRevisionAfter, inPages, type StreamProbe } from '../../src/store/eventstoredb/paging.js';

interface Stored {
  streamId: string;
  revision: bigint;
  position: string;
}

const position = (n: number) => String(n).padStart(6, '0');

/** A global log in which `job-1` holds every third event (revisions from `firstRevision`, as after a truncation). */
function interleavedLog(length: number, firstRevision = 0n): { log: Stored[]; stream: Stored[] } {
  const log: Stored[] = [];
  let revision = firstRevision;
  for (let i = 1; i <= length; i++) {
    log.push(
      i % 3 === 0
        ? { streamId: 'job-1', revision: revision++, position: position(i) }
        : { streamId: `other-${i}`, revision: 0n, position: position(i) },
    );
  }
  return { log, stream: log.filter((e) => e.streamId === 'job-1') };
}

/** What the adapter asks of the server, answered from memory, counting the events each call returns. */
function probeOf(log: Stored[], stream: Stored[]) {
  const counted = { reads: 0, events: 0 };
  const answer = <T>(value: T | undefined) => {
    counted.reads++;
    if (value !== undefined) counted.events++;
    return Promise.resolve(value);
  };
  const probe: StreamProbe = {
    eventAt: (at) => answer(log.find((e) => e.position === at)),
    eventFrom: (revision) => answer(stream.find((e) => e.revision >= revision)),
    lastEvent: () => answer(stream[stream.length - 1]),
  };
  return { probe, counted };
}

function readPageOf(stream: Stored[], counted: { reads: number; events: number; largestPage: number }) {
  return async function* (fromRevision: bigint, maxCount: number) {
    counted.reads++;
    const page = stream.filter((e) => e.revision >= fromRevision).slice(0, maxCount);
    counted.largestPage = Math.max(counted.largestPage, page.length);
    for (const event of page) {
      counted.events++;
      yield event;
    }
  };
}

describe('EventStoreDB paging: where a page of one stream after a position of the global log starts', () => {
  const { log, stream } = interleavedLog(300);

  it("given the cursor is the stream's own event (the previous page's last), then the next revision, in one read", async () => {
    const { probe, counted } = probeOf(log, stream);
    expect(await firstRevisionAfter('job-1', stream[40]!.position, probe)).toBe(41n);
    expect(counted.reads).toBe(1);
  });

  it("given a cursor between the stream's events, then the first revision after it, in a logarithmic number of one-event reads", async () => {
    for (const [cursor, expected] of [
      [position(1), 0n],
      [position(4), 1n],
      [position(200), 66n],
      [position(299), 99n],
      [position(300), 100n],
      [position(999), 100n],
    ] as const) {
      const { probe, counted } = probeOf(log, stream);
      expect(await firstRevisionAfter('job-1', cursor, probe), cursor).toBe(expected);
      expect(counted.reads).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(stream.length)) + 1);
    }
  });

  it('given a stream whose start was truncated, then revisions that no longer exist are skipped', async () => {
    const truncated = interleavedLog(300, 50n);
    const { probe } = probeOf(truncated.log, truncated.stream);
    expect(await firstRevisionAfter('job-1', position(2), probe)).toBe(0n);
    expect(await firstRevisionAfter('job-1', position(4), probe)).toBe(51n);
  });

  it('given an empty stream, then its start', async () => {
    const { probe } = probeOf(log, []);
    expect(await firstRevisionAfter('job-2', position(10), probe)).toBe(0n);
  });
});

describe('EventStoreDB paging: reading a stream in pages', () => {
  it('reads each event once, in server reads of at most a page, from the revision asked for', async () => {
    const { stream } = interleavedLog(3000);
    const counted = { reads: 0, events: 0, largestPage: 0 };
    const read: bigint[] = [];
    for await (const event of inPages(readPageOf(stream, counted), 10n, 64)) read.push(event.revision);
    expect(read).toEqual(stream.slice(10).map((e) => e.revision));
    expect(counted.events).toBe(stream.length - 10);
    expect(counted.largestPage).toBe(64);
    expect(counted.reads).toBe(Math.floor((stream.length - 10) / 64) + 1);
  });

  it('given the consumer stops, then no further page is read', async () => {
    const { stream } = interleavedLog(3000);
    const counted = { reads: 0, events: 0, largestPage: 0 };
    for await (const event of inPages(readPageOf(stream, counted), 0n, 64)) if (event.revision === 5n) break;
    expect(counted.reads).toBe(1);
  });

  it("walking a long stream's history page by page through global-log cursors reads each event about once, not the stream again for every page", async () => {
    const { log, stream } = interleavedLog(30_000);
    const { probe, counted } = probeOf(log, stream);
    const pages = { reads: 0, events: 0, largestPage: 0 };
    let after: string | undefined;
    let visited = 0;
    for (;;) {
      const from = after === undefined ? 0n : await firstRevisionAfter('job-1', after, probe);
      const page: Stored[] = [];
      for await (const event of inPages(readPageOf(stream, pages), from, 100)) {
        page.push(event);
        if (page.length === 100) break;
      }
      if (page.length === 0) break;
      visited += page.length;
      after = page[page.length - 1]!.position;
    }
    expect(visited).toBe(stream.length);
    // Quadratic (each page from the start) would read ~ N²/200 = 500,000 events here.
    expect(pages.events + counted.events).toBeLessThan(2 * stream.length);
  });
});
