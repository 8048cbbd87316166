/**
 * The EventStoreDB adapter through the real @eventstore/db-client, against a
 * stand-in node that speaks the server's read protocol over an in-memory log
 * (test/helpers/fake-eventstoredb.ts): what reaches the wire and what comes
 * back, where no EventStoreDB can run. A real server: store.eventstoredb.test.ts.
 */
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../../projections/runner.js';
import { judgeReadiness, lagReader } from '../../src/http/health.js';
import { LiveFeed } from '../../src/live-feed.js';
import { EventStoreDbEventStore } from '../../src/store/eventstoredb-store.js';
import { readModelProjections } from '../../src/trialog.js';
import type { RecordedEvent, SubscriptionState } from '../../src/store/port.js';
import { fakeEventStoreDb, type FakeEventStoreDb } from '../helpers/fake-eventstoredb.js';
import { sleep } from '../helpers/server.js';

let server: FakeEventStoreDb;
let store: EventStoreDbEventStore;

beforeEach(async () => {
  server = await fakeEventStoreDb();
  store = new EventStoreDbEventStore(server.url, { backoff: { initialMs: 10, maxMs: 50, healthyAfterMs: 60_000 } });
});
afterEach(async () => {
  await store.close();
  await server.close();
});

/** Trialog's events and another application's, interleaved: `count` of each kind. */
function sharedLog(count: number) {
  for (let i = 0; i < count; i++) {
    server.append(`job-${i}`, [{ type: 'JobCreated' }]);
    server.append(`orders-${i}`, [{ type: 'OrderPlaced' }]);
    server.append(`job-x${i}`, [{ type: 'OrderPlaced' }]);
  }
}

describe('EventStoreDB adapter through the client: foreign streams', () => {
  it("reads only Trialog's events of a shared log, asking the server for its categories, over several server pages", async () => {
    sharedLog(700);
    const read = await store.readAll({ maxCount: 1000 });
    expect(read).toHaveLength(700);
    expect(read.every((e) => e.type === 'JobCreated' && /^job-\d+$/.test(e.streamId))).toBe(true);
    expect(new Set(read.map((e) => e.position)).size).toBe(700);
    const allReads = server.requests.filter((r) => r?.all && !r.subscription);
    expect(allReads.length).toBeGreaterThanOrEqual(2);
    for (const r of allReads) expect(r?.filter?.streamIdentifier?.prefixList).toContain('job-');
  });

  it('sends a filter on types to the server as a filter on event types', async () => {
    sharedLog(5);
    const read = await store.readAll({ filter: { types: ['JobCreated', 'OrderPlaced'] } });
    expect(read.map((e) => e.streamId)).toEqual([0, 1, 2, 3, 4].map((i) => `job-${i}`));
    expect(server.requests.at(-1)?.filter?.eventType?.prefixList).toEqual(['JobCreated']);
  });

  it("answers the head with Trialog's newest event, however many foreign events follow it", async () => {
    sharedLog(3);
    for (let i = 0; i < 600; i++) server.append(`orders-late-${i}`, [{ type: 'OrderPlaced' }]);
    const [newest] = await store.readAll({ filter: { streamId: 'job-2' } });
    expect(await store.headPosition()).toBe(newest!.position);
  });
});

describe('EventStoreDB adapter through the client: paging one stream', () => {
  it("pages a stream's history through global-log cursors, each event once, without reading the stream from its start again", async () => {
    for (let i = 0; i < 40; i++) {
      server.append(
        'job-long',
        Array.from({ length: 25 }, () => ({ type: 'JobHeartbeat' })),
      );
      server.append(`job-other-${i}`, [{ type: 'JobCreated' }]);
    }
    const visited: bigint[] = [];
    let after: string | undefined;
    const before = server.requests.length;
    for (;;) {
      const page = await store.readAll({ after, filter: { streamId: 'job-long' }, maxCount: 100 });
      if (page.length === 0) break;
      visited.push(...page.map((e) => e.revision));
      after = page[page.length - 1]!.position;
    }
    expect(visited).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(i)));
    const streamReadsFrom = server.requests
      .slice(before)
      .filter((r) => r?.stream && Number(r.count) > 1)
      .map((r) => r?.stream?.revision);
    expect(streamReadsFrom).toEqual(['0', '100', '200', '300', '400', '500', '600', '700', '800', '900', '1000']);
  });
});

describe('EventStoreDB adapter through the client: subscriptions', () => {
  async function follow(count: number, states: SubscriptionState[]) {
    const subscription = store.subscribeToAll({ onStateChange: (state) => states.push(state) });
    const iterator = subscription[Symbol.asyncIterator]();
    const received: RecordedEvent[] = [];
    return {
      subscription,
      next: async (n = 1) => {
        for (let i = 0; i < n && received.length < count; i++)
          received.push((await iterator.next()).value as RecordedEvent);
        return received;
      },
    };
  }

  it('given the server fails the subscription with access denied, then it resubscribes after the last event and delivers every event once', async () => {
    const states: SubscriptionState[] = [];
    server.append('job-1', [{ type: 'JobCreated' }, { type: 'JobClaimed' }]);
    const { subscription, next } = await follow(4, states);
    await next(2);
    server.failSubscriptions(status.PERMISSION_DENIED, 'Access denied');
    server.append('job-1', [{ type: 'JobHeartbeat' }]);
    server.append('orders-1', [{ type: 'OrderPlaced' }]);
    server.append('job-1', [{ type: 'JobCompleted' }]);
    const received = await next(2);
    await subscription.close();
    expect(received.map((e) => e.type)).toEqual(['JobCreated', 'JobClaimed', 'JobHeartbeat', 'JobCompleted']);
    expect(states).toEqual(['live', 'retrying', 'live']);
    const subscribedFrom = server.requests
      .filter((r) => r?.subscription)
      .map((r) => r?.all?.position?.commitPosition ?? 'start');
    expect(subscribedFrom).toEqual(['start', '200']);
  });

  it('given the server ends the subscription cleanly, then it subscribes again after the last event', async () => {
    const states: SubscriptionState[] = [];
    server.append('job-1', [{ type: 'JobCreated' }]);
    const { subscription, next } = await follow(2, states);
    await next();
    server.endSubscriptions();
    server.append('job-1', [{ type: 'JobClaimed' }]);
    const received = await next();
    await subscription.close();
    expect(received.map((e) => e.type)).toEqual(['JobCreated', 'JobClaimed']);
    expect(states).toEqual(['live', 'retrying', 'live']);
  });
});

describe('EventStoreDB adapter through the client: readiness during an outage', () => {
  /** Polls (no timing is asserted: only that the state is reached). */
  async function until(condition: () => boolean): Promise<void> {
    while (!condition()) await sleep(10);
  }

  it("given the store's subscription is lost and every retry refused, then the runner is reconnecting and not ready; once the server takes subscriptions again, running and ready", async () => {
    const runner = new ProjectionRunner(store, new Database(':memory:'), readModelProjections, new LiveFeed());
    runner.start();
    await until(() => runner.state === 'running');
    // Through the server's own reader: while the client swaps a channel the
    // server called unavailable, a read may fail ("Channel closed before call
    // started"), and /ready answers that as a store that did not answer.
    const readLag = lagReader(runner);
    const ready = async () => judgeReadiness(await readLag(), false, { maxLagSeconds: 30 });
    expect((await ready()).status).toBe('ready');

    server.refuseSubscriptions({ code: status.UNAVAILABLE, details: 'node restarting' });
    server.failSubscriptions(status.INTERNAL, 'node died');
    await until(() => runner.state === 'reconnecting');
    const outage = await ready();
    expect(outage.status).toBe('not ready');
    expect(outage.checks.projections).toMatchObject({ ok: false, state: 'reconnecting' });

    server.refuseSubscriptions(undefined);
    await until(() => runner.state === 'running');
    expect((await ready()).status).toBe('ready');
    await runner.stop();
  });
});
