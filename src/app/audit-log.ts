/**
 * Pages of the audit log (the global log, or one stream's history) and its
 * live tail, for the `events` query and subscription and every `history` field.
 */
import { badInput } from '../domain/errors.js';
import type { EventFilter, EventStore, RecordedEvent } from '../store/port.js';
import type { LiveFeed } from '../live-feed.js';
import { matchesFilter } from '../store/port.js';

export interface EventPage {
  items: { cursor: string; node: RecordedEvent }[];
  hasNextPage: boolean;
}

/** The global log after a position, oldest first. */
export async function readLogPage(
  store: EventStore,
  filter: EventFilter | undefined,
  first: number,
  after: string | undefined,
): Promise<EventPage> {
  const events = await withPositionCheck(() => store.readAll({ after, filter, maxCount: first + 1 }));
  return {
    items: events.slice(0, first).map((event) => ({ cursor: event.position, node: event })),
    hasNextPage: events.length > first,
  };
}

/** One stream's events after a revision (the cursor), oldest first, up to `upTo` when given. */
export async function readStreamPage(
  store: EventStore,
  streamId: string,
  first: number,
  after: string | undefined,
  upTo?: number,
): Promise<EventPage> {
  let fromRevision = 0n;
  if (after !== undefined) {
    if (!/^\d{1,15}$/.test(after)) throw badInput('after must be a cursor from this connection');
    fromRevision = BigInt(after) + 1n;
  }
  let events = await store.readStream(streamId, { fromRevision, maxCount: first + 1 });
  if (upTo !== undefined) events = events.filter((event) => event.revision <= BigInt(upTo));
  return {
    items: events.slice(0, first).map((event) => ({ cursor: String(event.revision), node: event })),
    hasNextPage: events.length > first,
  };
}

/**
 * The log after a position, then live: the live feed is joined before the
 * backlog is read, the backlog stops where the feed had got to, and the feed
 * skips anything at or before the last event handed out. No gap, no repeat.
 */
export async function* tailLog(
  store: EventStore,
  feed: LiveFeed,
  feedPosition: () => string | undefined,
  filter: EventFilter | undefined,
  after: string | undefined,
): AsyncGenerator<RecordedEvent> {
  const live = feed.subscribe((event) => matchesFilter(event, filter));
  try {
    const handover = feedPosition();
    let last = after;
    while (handover !== undefined && (last === undefined || last < handover)) {
      const page = await withPositionCheck(() => store.readAll({ after: last, filter, maxCount: 500 }));
      const upToHandover = page.filter((event) => event.position <= handover);
      for (const event of upToHandover) {
        last = event.position;
        yield event;
      }
      if (upToHandover.length < page.length || page.length < 500) break;
    }
    for await (const event of live) {
      if (last !== undefined && event.position <= last) continue;
      last = event.position;
      yield event;
    }
  } finally {
    live.close();
  }
}

async function withPositionCheck<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RangeError) throw badInput('after must be a position or cursor from the audit log');
    throw error;
  }
}
