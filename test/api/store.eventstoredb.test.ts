/**
 * The same contract against EventStoreDB, when `EVENTSTORE_URL` points at a
 * server (`docker compose up eventstore`, then
 * `EVENTSTORE_URL=esdb://localhost:2113?tls=false npm test`), and what the
 * adapter adds for a server it may share and lose: lost races refused
 * whatever the connection string says, subscriptions that outlive their
 * connection, only Trialog's streams read back, one stream's history paged.
 * The adapter's own logic behind each is also tested without a server
 * (test/eventstoredb-*.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ownershipOfPrefixes } from '../../src/store/eventstoredb/ownership.js';
import { connectionStringProblem } from '../../src/store/eventstoredb/connection-string.js';
import { reachAtStart } from '../../src/store/eventstoredb/reach-at-start.js';
import { EventStoreDbEventStore } from '../../src/store/eventstoredb-store.js';
import { WrongExpectedRevisionError, type RecordedEvent, type SubscriptionState } from '../../src/store/port.js';
import { stallingProxy } from '../helpers/stalling-proxy.js';
import { CONTRACT_STREAM_PREFIX, event, eventStoreContract } from '../helpers/store-contract.js';
import { appendLimitsContract } from '../helpers/store-contract-limits.js';

const url = process.env.EVENTSTORE_URL;

/** The server's URL with one more setting of the connection string. */
function withSetting(base: string, setting: string): string {
  return `${base}${base.includes('?') ? '&' : '?'}${setting}`;
}

const id = () => randomUUID().replaceAll('-', '');

if (url) {
  eventStoreContract(`EventStoreDB at ${url}`, async () => ({
    store: new EventStoreDbEventStore(url, { ownership: ownershipOfPrefixes([CONTRACT_STREAM_PREFIX]) }),
  }));
  // The server's MaxAppendSize: its default unless the test is told what the server was started with.
  const maxAppendBytes = process.env.EVENTSTORE_MAX_APPEND_BYTES
    ? Number(process.env.EVENTSTORE_MAX_APPEND_BYTES)
    : undefined;
  appendLimitsContract(`EventStoreDB at ${url}`, async () => ({
    store: new EventStoreDbEventStore(url, { maxAppendBytes }),
  }));

  describe(`EventStoreDB adapter at ${url}`, () => {
    const opened: { close(): Promise<void> }[] = [];
    const open = <T extends { close(): Promise<void> }>(resource: T): T => {
      opened.push(resource);
      return resource;
    };
    afterEach(async () => {
      for (const resource of opened.splice(0).reverse()) await resource.close();
    });

    it('given a connection string with throwOnAppendFailure=false, when writers race on one expected revision, then exactly one wins and the others get the concurrency error', async () => {
      const store = open(new EventStoreDbEventStore(withSetting(url, 'throwOnAppendFailure=false')));
      const stream = `job-${id()}`;
      await store.appendToStream(stream, [event('JobCreated')], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.appendToStream(stream, [event('JobClaimed')], { expectedRevision: 0n })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('given its connections are cut while it follows the log, then the subscription says it is retrying, comes back, and delivers every event once', async () => {
      const writer = open(new EventStoreDbEventStore(url));
      const proxy = open(await stallingProxy(url));
      const follower = open(
        new EventStoreDbEventStore(proxy.url, { backoff: { initialMs: 50, maxMs: 500, healthyAfterMs: 60_000 } }),
      );
      const stream = `job-${id()}`;
      const head = await writer.headPosition();
      const states: SubscriptionState[] = [];
      const subscription = open(
        follower.subscribeToAll({
          after: head,
          filter: { streamId: stream },
          onStateChange: (state) => states.push(state),
        }),
      );
      const iterator = subscription[Symbol.asyncIterator]();
      const received: RecordedEvent[] = [];
      const next = async () => received.push((await iterator.next()).value as RecordedEvent);

      await writer.appendToStream(stream, [event('JobCreated'), event('JobClaimed')]);
      await next();
      await next();
      proxy.cut();
      await writer.appendToStream(stream, [event('JobHeartbeat')]);
      proxy.cut();
      await writer.appendToStream(stream, [event('JobCompleted')]);
      await next();
      await next();

      expect(received.map((e) => e.type)).toEqual(['JobCreated', 'JobClaimed', 'JobHeartbeat', 'JobCompleted']);
      expect(new Set(received.map((e) => e.id)).size).toBe(4);
      expect(states).toContain('retrying');
      expect(states[states.length - 1]).toBe('live');
    });

    it("given another application's streams on the same server, then reads, type filters, subscriptions and the head see only Trialog's", async () => {
      const store = open(new EventStoreDbEventStore(url));
      const head = await store.headPosition();
      const foreign = `orders-${id()}`;
      const foreignUnderOurPrefix = `job-${id()}`;
      const ours = `job-${id()}`;
      await store.appendToStream(foreign, [event('OrderPlaced')]);
      await store.appendToStream(foreignUnderOurPrefix, [event('OrderPlaced')]);
      await store.appendToStream(ours, [event('JobCreated')]);
      await store.appendToStream(foreign, [event('OrderShipped')]);
      const mine = [foreign, foreignUnderOurPrefix, ours];

      const read = (await store.readAll({ after: head, maxCount: 1000 })).filter((e) => mine.includes(e.streamId));
      expect(read.map((e) => e.streamId)).toEqual([ours]);
      const byType = await store.readAll({ after: head, filter: { types: ['JobCreated', 'OrderPlaced'] } });
      expect(byType.filter((e) => mine.includes(e.streamId)).map((e) => e.streamId)).toEqual([ours]);
      expect(await store.readAll({ filter: { streamId: foreign } })).toEqual([]);
      expect(await store.readAll({ filter: { streamId: foreignUnderOurPrefix } })).toEqual([]);
      expect(await store.headPosition()).toBe(read[0]!.position);

      const subscription = open(store.subscribeToAll({ after: head }));
      const seen: string[] = [];
      for await (const e of subscription) {
        seen.push(e.streamId);
        if (e.streamId === ours) break;
      }
      expect(seen).not.toContain(foreign);
      expect(seen).not.toContain(foreignUnderOurPrefix);
    });

    it("pages one stream's history through global-log cursors, each event once, past the adapter's server page", async () => {
      const store = open(new EventStoreDbEventStore(url));
      const stream = `job-${id()}`;
      const before = await store.headPosition();
      const written = Array.from({ length: 1_200 }, () => event('JobLogAppended'));
      for (let i = 0; i < written.length; i += 300) {
        await store.appendToStream(stream, written.slice(i, i + 300));
        await store.appendToStream(`job-${id()}`, [event('JobCreated')]);
      }
      const whole = await store.readStream(stream, { withData: false });
      expect(whole.map((e) => e.id)).toEqual(written.map((e) => e.id));

      // The first cursor, the head before, is no event of the stream's: where the stream starts after it is searched for.
      const visited: string[] = [];
      let after = before;
      for (;;) {
        const page = await store.readAll({ after, filter: { streamId: stream }, maxCount: 250, withData: false });
        if (page.length === 0) break;
        visited.push(...page.map((e) => e.id));
        after = page[page.length - 1]!.position;
      }
      expect(visited).toEqual(written.map((e) => e.id));
      const fromTheMiddle = await store.readAll({
        after: whole[699]!.position,
        filter: { streamId: stream },
        maxCount: 2,
      });
      expect(fromTheMiddle.map((e) => e.revision)).toEqual([700n, 701n]);
      const last = await store.readStream(stream, { fromRevision: 1_199n, maxCount: 5 });
      expect(last.map((e) => e.revision)).toEqual([1_199n]);
    });
  });

  describe(`reaching EventStoreDB at start: ${url}`, () => {
    it('given a server that answers, then the first attempt reaches it, with no line logged', async () => {
      const store = new EventStoreDbEventStore(url);
      const lines: string[] = [];
      try {
        await reachAtStart(store, { connectionString: url, maxSeconds: 5, log: (line) => lines.push(line) });
        expect(lines).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it("given the same string, then the client's own parser finds nothing wrong with it", () => {
      expect(connectionStringProblem(url)).toBeUndefined();
    });
  });
} else {
  describe('event store contract: EventStoreDB', () => {
    it.skip('skipped: EVENTSTORE_URL is not set (start a server with `docker compose up eventstore`)', () => {});
  });
}
