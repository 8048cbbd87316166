/**
 * Pages of the audit log (the global log, or one stream's history) and its
 * live tail, for the `events` query and subscription and every `history` field.
 */
import { closingWith } from '../closing-iterator.js';
import { badInput, tooLarge } from '../domain/errors.js';
import { SubscriberTooSlowError, type LiveFeed } from '../live-feed.js';
import { matchesFilter, type EventFilter, type EventStore, type RecordedEvent } from '../store/port.js';

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
  const start = after === undefined ? undefined : normalizedPosition(store, after);
  const events = await store.readAll({ after: start, filter, maxCount: first + 1 });
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
export function tailLog(
  store: EventStore,
  feed: LiveFeed,
  feedPosition: () => string | undefined,
  filter: EventFilter | undefined,
  after: string | undefined,
): AsyncGenerator<RecordedEvent> {
  // Compared as strings below: only the store's canonical form compares right.
  const start = after === undefined ? undefined : normalizedPosition(store, after);
  const live = feed.subscribe((event) => matchesFilter(event, filter));
  async function* events(): AsyncGenerator<RecordedEvent> {
    let last = start;
    try {
      const handover = feedPosition();
      while (handover !== undefined && (last === undefined || last < handover)) {
        const page = await store.readAll({ after: last, filter, maxCount: 500 });
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
    } catch (error) {
      if (error instanceof SubscriberTooSlowError) {
        throw tooLarge(`${error.message}; subscribe again with after: "${last ?? ''}"`, { resumeAfter: last ?? null });
      }
      throw error;
    } finally {
      live.close();
    }
  }
  return closingWith(live, events());
}

function normalizedPosition(store: EventStore, position: string): string {
  try {
    return store.normalizePosition(position);
  } catch {
    throw badInput('after must be a position or cursor from the audit log');
  }
}
