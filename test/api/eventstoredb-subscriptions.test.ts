/**
 * The EventStoreDB adapter's resubscription, without a server: the loop in
 * src/store/eventstoredb/subscription.ts driven by a scripted server whose
 * subscriptions fail, or end, after delivering part of a log. The same
 * behaviour against a real server is in store.eventstoredb.test.ts.
 */
import { AccessDeniedError, UnknownError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent, SubscriptionState } from '../../src/store/port.js';
import {
  SubscriptionEndedError,
  backoffDelay,
  resubscribing,
  type BackoffPolicy,
  type SubscriptionAttempt,
} from '../../src/store/eventstoredb/subscription.js';

const policy: BackoffPolicy = { initialMs: 100, maxMs: 3_000, healthyAfterMs: 60_000 };

const position = (n: number) => String(n).padStart(4, '0');
const logOf = (count: number): RecordedEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `e${i + 1}`,
    type: 'JobCreated',
    streamId: `job-${i + 1}`,
    revision: 0n,
    position: position(i + 1),
    timestamp: new Date(0).toISOString(),
    data: {},
    metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
  }));

/** How each subscription to the scripted server goes: events it delivers, then how it stops. */
interface Script {
  deliver: number;
  then: 'end' | Error;
  /** The server repeats the event at the resume position (as an inclusive read would). */
  repeatsResumePosition?: boolean;
  /** Time passes while it is up (ms, on the fake clock). */
  upFor?: number;
}

function scriptedServer(log: RecordedEvent[], scripts: Script[]) {
  const subscribedAfter: (string | undefined)[] = [];
  let clock = 0;
  const subscribe = (after: string | undefined, onLive: () => void): SubscriptionAttempt => {
    subscribedAfter.push(after);
    // Past the script, the server stays up and silent until the subscription is closed.
    const script = scripts.shift();
    let closed: () => void = () => {};
    const closing = new Promise<void>((resolve) => (closed = resolve));
    return {
      async *[Symbol.asyncIterator]() {
        onLive();
        const start = log.findIndex((e) => after === undefined || e.position > after);
        const from = start < 0 ? log.length : start;
        const events = script?.repeatsResumePosition && from > 0 ? log.slice(from - 1) : log.slice(from);
        if (!script) {
          yield* events;
          await closing;
          return;
        }
        yield* events.slice(0, script.deliver);
        clock += script.upFor ?? 0;
        if (script.then !== 'end') throw script.then;
      },
      close: async () => closed(),
    };
  };
  return { subscribe, subscribedAfter, now: () => clock };
}

async function collect(subscription: AsyncIterable<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  for await (const event of subscription) {
    received.push(event);
    if (received.length >= count) break;
  }
  return received;
}

function harness(log: RecordedEvent[], scripts: Script[], after?: string) {
  const server = scriptedServer(log, scripts);
  const delays: number[] = [];
  const states: [SubscriptionState, unknown][] = [];
  const lines: string[] = [];
  const subscription = resubscribing({
    after,
    subscribe: server.subscribe,
    backoff: policy,
    now: server.now,
    random: () => 1,
    sleep: async (ms) => void delays.push(ms),
    onStateChange: (state, error) => states.push([state, error]),
    log: (line) => lines.push(line),
  });
  return { subscription, server, delays, states, lines };
}

describe('EventStoreDB subscriptions: resubscribing after failures and ends', () => {
  it('given subscriptions that fail with errors the adapter never retried (access denied, an internal error), then it resubscribes after the last event delivered: every event once, in order', async () => {
    const log = logOf(10);
    const { subscription, server } = harness(log, [
      { deliver: 3, then: new AccessDeniedError(null as never) },
      { deliver: 4, then: new UnknownError(null as never) },
    ]);
    const received = await collect(subscription, 10);
    await subscription.close();
    expect(received.map((e) => e.id)).toEqual(log.map((e) => e.id));
    expect(server.subscribedAfter).toEqual([undefined, position(3), position(7)]);
  });

  it('given a server that repeats the event it resumes at, then nothing is delivered twice', async () => {
    const log = logOf(6);
    const { subscription } = harness(log, [
      { deliver: 2, then: new Error('node died') },
      { deliver: 3, then: new Error('node died again'), repeatsResumePosition: true },
      { deliver: 0, then: 'end', repeatsResumePosition: true },
    ]);
    const received = await collect(subscription, 6);
    await subscription.close();
    expect(received.map((e) => e.id)).toEqual(log.map((e) => e.id));
  });

  it('starts strictly after the position it is given', async () => {
    const log = logOf(5);
    const { subscription, server } = harness(log, [], position(2));
    const received = await collect(subscription, 3);
    await subscription.close();
    expect(received.map((e) => e.id)).toEqual(['e3', 'e4', 'e5']);
    expect(server.subscribedAfter).toEqual([position(2)]);
  });

  it('given a server that ends every subscription at once, then each wait is longer than the last up to the cap: no tight loop', async () => {
    const ends: Script[] = Array.from({ length: 8 }, () => ({ deliver: 0, then: 'end' as const }));
    const { subscription, delays, lines } = harness(logOf(1), ends);
    const received = await collect(subscription, 1);
    await subscription.close();
    expect(received.map((e) => e.id)).toEqual(['e1']);
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3000, 3000, 3000]);
    expect(lines[0]).toContain(new SubscriptionEndedError().message);
  });

  it('given a subscription that stayed up for the healthy period before it failed, then the backoff starts over', async () => {
    const { subscription, delays } = harness(logOf(1), [
      { deliver: 0, then: new Error('a') },
      { deliver: 0, then: new Error('b') },
      { deliver: 0, then: new Error('c') },
      { deliver: 0, then: new Error('after a long healthy run'), upFor: policy.healthyAfterMs },
      { deliver: 0, then: new Error('d') },
    ]);
    await collect(subscription, 1);
    await subscription.close();
    expect(delays).toEqual([100, 200, 400, 100, 200]);
  });

  it('reports retrying with the error when it loses the server, and live once the server has it again', async () => {
    const denied = new AccessDeniedError(null as never);
    const { subscription, states } = harness(logOf(2), [{ deliver: 1, then: denied }]);
    await collect(subscription, 2);
    await subscription.close();
    expect(states).toEqual([
      ['live', undefined],
      ['retrying', denied],
      ['live', undefined],
    ]);
  });

  it('logs one line per retry, with the error and without its stack', async () => {
    const error = new Error('connection reset\n    at somewhere (file.js:1:1)');
    const { subscription, lines } = harness(logOf(1), [{ deliver: 0, then: error }]);
    await collect(subscription, 1);
    await subscription.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^event store subscription lost \(Error: connection reset\); resubscribing after the start in 100 ms \(retry 1\)$/,
    );
  });

  it('given it is closed while it waits to resubscribe, then it ends without subscribing again', async () => {
    const server = scriptedServer(logOf(1), [{ deliver: 0, then: new Error('down') }]);
    let waiting: () => void = () => {};
    const waitStarted = new Promise<void>((resolve) => (waiting = resolve));
    const subscription = resubscribing({
      after: undefined,
      subscribe: server.subscribe,
      backoff: policy,
      log: () => {},
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          waiting();
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();
    await waitStarted;
    await subscription.close();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(server.subscribedAfter).toEqual([undefined]);
  });
});

describe('EventStoreDB subscriptions: the backoff', () => {
  it('doubles from the first wait up to the cap, with a random part between half of each wait and all of it', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 40].map((attempt) => backoffDelay(attempt, policy, () => 1));
    expect(ceilings).toEqual([100, 200, 400, 800, 1600, 3000, 3000, 3000]);
    const floors = [0, 1, 5, 40].map((attempt) => backoffDelay(attempt, policy, () => 0));
    expect(floors).toEqual([50, 100, 1500, 1500]);
  });
});
