/**
 * The event store contract: what every adapter behind the port must do.
 * `store.sqlite.test.ts` and `store.eventstoredb.test.ts` run it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../../src/store/port.js';

export interface StoreUnderTest {
  store: EventStore;
  cleanup?: () => Promise<void> | void;
}

const metadata = { actor: 'test', correlationId: 'c-1', causationId: 'c-1', schemaVersion: 1 };

export function event(type: string, data: Record<string, unknown> = {}): NewEvent {
  return { id: randomUUID(), type, data, metadata };
}

/**
 * Every category the suite writes starts with this: a store shared with other
 * applications (EventStoreDB) reads back only the streams it owns, and the
 * suite's are the ones under this prefix.
 */
export const CONTRACT_STREAM_PREFIX = 'contract';

/** A category of the suite's own; `unique` makes it one no other test (or run) writes. */
function contractCategory(name: string, { unique = false } = {}): string {
  return `${CONTRACT_STREAM_PREFIX}${name}${unique ? randomUUID().replaceAll('-', '').slice(0, 12) : ''}`;
}

/** Stream ids unique per test, so a shared server (EventStoreDB) needs no cleanup. */
function uniqueStream(category: string): string {
  return `${contractCategory(category)}-${randomUUID().replaceAll('-', '')}`;
}

async function take(iterable: AsyncIterable<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  if (count === 0) return taken;
  for await (const e of iterable) {
    taken.push(e);
    if (taken.length >= count) break;
  }
  return taken;
}

export function eventStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`event store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: EventStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.store.close();
      await subject.cleanup?.();
    });

    describe('append with an expected revision', () => {
      it('given no stream, when appending expecting no_stream, then the events start at revision 0', async () => {
        const stream = uniqueStream('cat');
        const result = await store.appendToStream(stream, [event('A'), event('B')], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1n);
        const read = await store.readStream(stream);
        expect(read.map((e) => [e.type, e.revision])).toEqual([
          ['A', 0n],
          ['B', 1n],
        ]);
        expect(result.position).toBe(read[1]!.position);
      });

      it('given a stream, when appending expecting no_stream, then it is a conflict naming the actual revision', async () => {
        const stream = uniqueStream('cat');
        await store.appendToStream(stream, [event('A')]);
        const error = await store
          .appendToStream(stream, [event('B')], { expectedRevision: 'no_stream' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe(0n);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('given no stream, when appending expecting stream_exists, then it is a conflict', async () => {
        const stream = uniqueStream('cat');
        const error = await store
          .appendToStream(stream, [event('A')], { expectedRevision: 'stream_exists' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBeUndefined();
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('given a stream, when appending expecting stream_exists, then it appends', async () => {
        const stream = uniqueStream('cat');
        await store.appendToStream(stream, [event('A')]);
        const result = await store.appendToStream(stream, [event('B')], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('given a stream at revision 1, when appending expecting 1, then it appends; expecting 0, a conflict', async () => {
        const stream = uniqueStream('cat');
        await store.appendToStream(stream, [event('A'), event('B')]);
        const stale = await store
          .appendToStream(stream, [event('X')], { expectedRevision: 0n })
          .catch((e: unknown) => e);
        expect(stale).toBeInstanceOf(WrongExpectedRevisionError);
        const result = await store.appendToStream(stream, [event('C')], { expectedRevision: 1n });
        expect(result.nextExpectedRevision).toBe(2n);
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it('when appending expecting any, then it appends whatever the stream holds', async () => {
        const stream = uniqueStream('cat');
        await store.appendToStream(stream, [event('A')], { expectedRevision: 'any' });
        await store.appendToStream(stream, [event('B')], { expectedRevision: 'any' });
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('given many writers racing on one expected revision, then exactly one wins', async () => {
        const stream = uniqueStream('race');
        await store.appendToStream(stream, [event('A')]);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, () => store.appendToStream(stream, [event('B')], { expectedRevision: 0n })),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) {
          if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        expect(await store.readStream(stream)).toHaveLength(2);
      });
    });

    describe('idempotent appends', () => {
      it('given an acknowledged append, when it is retried with the same event ids, then nothing is written twice', async () => {
        const stream = uniqueStream('idem');
        const events = [event('A'), event('B')];
        const first = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
        const retried = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
        expect(retried.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(retried.position).toBe(first.position);
        const read = await store.readStream(stream);
        expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
      });
    });

    describe('reading a stream', () => {
      it('reads forwards from a revision, at most maxCount events', async () => {
        const stream = uniqueStream('read');
        await store.appendToStream(
          stream,
          ['A', 'B', 'C', 'D'].map((t) => event(t)),
        );
        const read = await store.readStream(stream, { fromRevision: 1n, maxCount: 2 });
        expect(read.map((e) => e.type)).toEqual(['B', 'C']);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(uniqueStream('none'))).toEqual([]);
      });

      it('keeps the envelope: id, type, stream, revision, position, timestamp, data and metadata', async () => {
        const stream = uniqueStream('env');
        const written = event('Typed', { nested: { list: [1, 'two', null] }, n: 1.5 });
        const before = Date.now();
        await store.appendToStream(stream, [written]);
        const [read] = await store.readStream(stream);
        expect(read).toMatchObject({
          id: written.id,
          type: 'Typed',
          streamId: stream,
          revision: 0n,
          data: written.data,
          metadata: written.metadata,
        });
        expect(typeof read!.position).toBe('string');
        expect(Date.parse(read!.timestamp)).toBeGreaterThanOrEqual(before - 5000);
      });
    });

    describe('reading the global log', () => {
      it('reads after a position, in order, with positions that compare as strings', async () => {
        const head = await store.headPosition();
        const a = uniqueStream('all');
        const b = uniqueStream('all');
        await store.appendToStream(a, [event('A1')]);
        await store.appendToStream(b, [event('B1')]);
        await store.appendToStream(a, [event('A2')]);
        const read = (await store.readAll({ after: head, maxCount: 1000 })).filter((e) => [a, b].includes(e.streamId));
        expect(read.map((e) => e.type)).toEqual(['A1', 'B1', 'A2']);
        expect(read[0]!.position < read[1]!.position && read[1]!.position < read[2]!.position).toBe(true);
        const afterFirst = await store.readAll({
          after: read[0]!.position,
          filter: { category: contractCategory('all') },
          maxCount: 10,
        });
        expect(afterFirst.map((e) => e.position)).not.toContain(read[0]!.position);
        expect(await store.headPosition()).toBe(read[2]!.position);
      });

      it('filters by stream, category and event type', async () => {
        const head = await store.headPosition();
        const category = contractCategory('f', { unique: true });
        const one = `${category}-1`;
        const two = `${category}-2`;
        await store.appendToStream(one, [event('Keep'), event('Drop')]);
        await store.appendToStream(two, [event('Keep')]);
        await store.appendToStream(uniqueStream('other'), [event('Keep')]);
        const byCategory = await store.readAll({ after: head, filter: { category } });
        expect(byCategory.map((e) => e.streamId)).toEqual([one, one, two]);
        const byType = await store.readAll({ after: head, filter: { category, types: ['Keep'] } });
        expect(byType.map((e) => e.streamId)).toEqual([one, two]);
        const byStream = await store.readAll({ after: head, filter: { streamId: two } });
        expect(byStream.map((e) => e.type)).toEqual(['Keep']);
      });

      it('leaves out the categories a filter excludes, in reads and in subscriptions alike', async () => {
        const head = await store.headPosition();
        const hidden = contractCategory('h', { unique: true });
        const shown = uniqueStream('shown');
        await store.appendToStream(`${hidden}-keys`, [event('Secret')]);
        await store.appendToStream(shown, [event('Open')]);
        const read = await store.readAll({ after: head, filter: { excludeCategories: [hidden] } });
        expect(read.map((e) => e.streamId)).not.toContain(`${hidden}-keys`);
        expect(read.map((e) => e.streamId)).toContain(shown);
        const subscription = store.subscribeToAll({ after: head, filter: { excludeCategories: [hidden] } });
        const seen: string[] = [];
        for await (const e of subscription) {
          seen.push(e.streamId);
          if (e.streamId === shown) break;
        }
        await subscription.close();
        expect(seen).not.toContain(`${hidden}-keys`);
      });

      it('pages with maxCount', async () => {
        const head = await store.headPosition();
        const stream = uniqueStream('page');
        await store.appendToStream(
          stream,
          ['A', 'B', 'C'].map((t) => event(t)),
        );
        const first = await store.readAll({ after: head, maxCount: 2, filter: { streamId: stream } });
        const second = await store.readAll({ after: first[1]!.position, maxCount: 2, filter: { streamId: stream } });
        expect([...first, ...second].map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });
    });

    describe('reading part of each event, and pages within a byte budget', () => {
      /** An event whose data is `size` bytes of JSON. */
      const sized = (type: string, size: number) => event(type, { s: 'x'.repeat(size - '{"s":""}'.length) });

      it('withData: false reads the envelope and metadata without the data; withMetadata: false leaves that out too', async () => {
        const stream = uniqueStream('part');
        await store.appendToStream(stream, [sized('A', 5000), sized('B', 5000)]);
        const whole = await store.readStream(stream);
        const headers = await store.readStream(stream, { withData: false });
        expect(headers).toEqual(whole.map(({ data: _data, ...rest }) => rest));
        const bare = await store.readStream(stream, { withData: false, withMetadata: false });
        expect(bare).toEqual(whole.map(({ data: _data, metadata: _metadata, ...rest }) => rest));
        for (const e of bare) expect(Object.keys(e)).not.toContain('data');
        const page = await store.readAll({ filter: { streamId: stream }, withData: false, withMetadata: false });
        expect(page).toEqual(bare);
      });

      it('maxBytes cuts a page before the event whose data would pass it; paging on visits every event once', async () => {
        const stream = uniqueStream('budget');
        const written = ['A', 'B', 'C', 'D', 'E'].map((type) => sized(type, 1000));
        await store.appendToStream(stream, written);
        const first = await store.readStream(stream, { maxBytes: 2500 });
        expect(first.map((e) => e.type)).toEqual(['A', 'B']);
        expect(first[0]!.data).toEqual(written[0]!.data);

        const visited: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.readAll({ after, filter: { streamId: stream }, maxCount: 1000, maxBytes: 2500 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(2);
          visited.push(...page.map((e) => e.type));
          after = page[page.length - 1]!.position;
        }
        expect(visited).toEqual(['A', 'B', 'C', 'D', 'E']);
      });

      it('maxBytes smaller than one event still returns that event, so paging progresses', async () => {
        const category = contractCategory('b', { unique: true });
        const head = await store.headPosition();
        await store.appendToStream(`${category}-1`, [sized('Big', 20_000), sized('Small', 100)]);
        const byStream = await store.readStream(`${category}-1`, { maxBytes: 1000 });
        expect(byStream.map((e) => e.type)).toEqual(['Big']);
        const byCategory = await store.readAll({ after: head, filter: { category }, maxBytes: 1000 });
        expect(byCategory.map((e) => e.type)).toEqual(['Big']);
        const rest = await store.readAll({ after: byCategory[0]!.position, filter: { category }, maxBytes: 1000 });
        expect(rest.map((e) => e.type)).toEqual(['Small']);
      });

      it('maxBytes does not cut a page read without data', async () => {
        const stream = uniqueStream('nodata');
        await store.appendToStream(
          stream,
          ['A', 'B', 'C'].map((type) => sized(type, 1000)),
        );
        const headers = await store.readStream(stream, { withData: false, maxBytes: 1 });
        expect(headers.map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });
    });

    describe('subscribing to the global log', () => {
      it('delivers the backlog, then live events, with no gap and no repeat across the switch', async () => {
        const head = await store.headPosition();
        const category = contractCategory('s', { unique: true });
        await store.appendToStream(`${category}-a`, [event('E0'), event('E1')]);
        const subscription = store.subscribeToAll({ after: head, filter: { category } });
        const received = take(subscription, 6);
        // Live appends race the catch-up on purpose.
        await store.appendToStream(`${category}-b`, [event('E2')]);
        await store.appendToStream(`${category}-a`, [event('E3')]);
        await store.appendToStream(`${category}-b`, [event('E4'), event('E5')]);
        const events = await received;
        await subscription.close();
        expect(events.map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5']);
        expect(new Set(events.map((e) => e.id)).size).toBe(6);
      });

      it('starts strictly after the given position and filters by type', async () => {
        const stream = uniqueStream('sub');
        await store.appendToStream(stream, [event('Skip'), event('Want')]);
        const [first] = await store.readStream(stream);
        const subscription = store.subscribeToAll({ after: first!.position, filter: { types: ['Want', 'Later'] } });
        const received = take(subscription, 2);
        await store.appendToStream(stream, [event('Ignored'), event('Later')]);
        const events = await received;
        await subscription.close();
        expect(events.map((e) => e.type)).toEqual(['Want', 'Later']);
      });
    });
  });
}
