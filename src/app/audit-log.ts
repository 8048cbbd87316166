/**
 * Pages of the audit log (the global log, or one stream's history) and its
 * live tail, for the `events` query and subscription and every `history` field.
 *
 * A page reads what its query selects and no more: without `data`, no event's
 * data is read at all (a thousand megabyte events cost their headers); with
 * it, the page is cut at `pageBytes` of data (the configured `eventPageBytes`
 * limit), so it may hold fewer than `first` events with `hasNextPage` true, as
 * Relay allows.
 */
import { closingWith } from '../closing-iterator.js';
import { turnOfEventLoop } from '../event-loop.js';
import { checkVisible, hiddenCategories } from '../domain/access/visibility.js';
import type { Role } from '../domain/access/keys.js';
import { badInput } from '../domain/errors.js';
import { boundedFilterList } from './filter-lists.js';
import type { Limits } from '../limits.js';
import { resumableEnd, type LiveFeed } from '../live-feed.js';
import {
  matchesFilter,
  type EventFilter,
  type EventStore,
  type ReadShape,
  type RecordedEventPart,
} from '../store/port.js';

export interface EventPage {
  items: { cursor: string; node: RecordedEventPart }[];
  hasNextPage: boolean;
}

/** What of each event a page needs: its data, its metadata, or neither (the envelope is always read). */
export interface EventFields {
  data: boolean;
  metadata: boolean;
}

export const wholeEvents: EventFields = { data: true, metadata: true };

/** How the store reads a page: only the columns wanted, and data within `pageBytes`. */
function readShape(fields: EventFields, pageBytes: number): ReadShape {
  return {
    withData: fields.data,
    // Upcasting an older event's data reads its stored version from the metadata.
    withMetadata: fields.metadata || fields.data,
    maxBytes: fields.data ? pageBytes : undefined,
  };
}

const HEADERS_ONLY = { withData: false, withMetadata: false } as const;

/**
 * Whether a page that came back without an event past `first` may have been
 * cut by the byte budget (only pages with data are), so that whether more
 * follow is asked of the store: one event's headers, never its data.
 */
function cutShortMaybe(fields: EventFields, items: readonly unknown[]): boolean {
  return fields.data && items.length > 0;
}

/**
 * A reader's filter of the global log, as its role may read it: what the role
 * does not see is left out (FORBIDDEN when the filter names it), and a list of
 * types is bounded (each type is a bound parameter of the store's query).
 */
export function readerFilter(
  role: Role,
  filter: EventFilter | undefined,
  limits: Pick<Limits, 'filterListItems'>,
): EventFilter {
  checkVisible(role, filter);
  const types = boundedFilterList(limits, 'filter.types', filter?.types);
  const excludeCategories = hiddenCategories(role);
  return { ...filter, ...(types && { types }), ...(excludeCategories.length > 0 && { excludeCategories }) };
}

/** The global log after a position, oldest first. */
export async function readLogPage(
  store: EventStore,
  filter: EventFilter | undefined,
  first: number,
  after: string | undefined,
  fields: EventFields,
  pageBytes: number,
): Promise<EventPage> {
  const start = after === undefined ? undefined : normalizedPosition(store, after);
  const events = await store.readAll({ after: start, filter, maxCount: first + 1, ...readShape(fields, pageBytes) });
  const items = events.slice(0, first);
  const last = items[items.length - 1];
  const anyAfterLast = async () =>
    (await store.readAll({ after: last!.position, filter, maxCount: 1, ...HEADERS_ONLY })).length > 0;
  const hasNextPage = events.length > first || (cutShortMaybe(fields, items) && (await anyAfterLast()));
  return { items: items.map((event) => ({ cursor: event.position, node: event })), hasNextPage };
}

/**
 * One stream's events after a revision (the cursor), oldest first, up to revision `upTo` when given;
 * `pageBytes` of data at most (the first event always).
 */
export async function readStreamPage(
  store: EventStore,
  streamId: string,
  first: number,
  after: string | undefined,
  { upTo, fields = wholeEvents, pageBytes }: { upTo?: number; fields?: EventFields; pageBytes: number },
): Promise<EventPage> {
  let fromRevision = 0n;
  if (after !== undefined) {
    if (!/^\d{1,15}$/.test(after)) throw badInput('after must be a cursor from this connection');
    fromRevision = BigInt(after) + 1n;
  }
  const inView = (event: RecordedEventPart) => upTo === undefined || event.revision <= BigInt(upTo);
  const events = (
    await store.readStream(streamId, { fromRevision, maxCount: first + 1, ...readShape(fields, pageBytes) })
  ).filter(inView);
  const items = events.slice(0, first);
  const last = items[items.length - 1];
  const anyAfterLast = async () =>
    (await store.readStream(streamId, { fromRevision: last!.revision + 1n, maxCount: 1, ...HEADERS_ONLY })).some(
      inView,
    );
  const hasNextPage = events.length > first || (cutShortMaybe(fields, items) && (await anyAfterLast()));
  return { items: items.map((event) => ({ cursor: String(event.revision), node: event })), hasNextPage };
}

/**
 * The log after a position, then live: the live feed is joined before the
 * backlog is read, the backlog stops where the feed had got to, and the feed
 * skips anything at or before the last event handed out. No gap, no repeat.
 *
 * `narrowed` keeps only some of what the store's filter lets through, for a
 * subscription narrower than any store filter can say (the events of one
 * experiment's jobs): it is asked of the backlog's events and the live ones
 * alike, so a narrowed tail keeps the same guarantees. A backlog event it
 * turns down still moves the resume position on past it.
 */
export function tailLog(
  store: EventStore,
  feed: LiveFeed,
  feedPosition: () => string | undefined,
  filter: EventFilter | undefined,
  after: string | undefined,
  fields: EventFields,
  pageBytes: number,
  narrowed: (event: RecordedEventPart) => boolean = () => true,
): AsyncGenerator<RecordedEventPart> {
  // Compared as strings below: only the store's canonical form compares right.
  const start = after === undefined ? undefined : normalizedPosition(store, after);
  const live = feed.subscribe((event) => matchesFilter(event, filter) && narrowed(event));
  async function* events(): AsyncGenerator<RecordedEventPart> {
    let last = start;
    try {
      const handover = feedPosition();
      // The backlog in pages read as the query's pages are: only the fields selected, data within the byte budget.
      while (!live.closed && handover !== undefined && (last === undefined || last < handover)) {
        // A turn of the event loop per page: writes to a fast reader complete without one, and a long backlog
        // would otherwise hold up every other request, and this subscriber's own unsubscribe, until its end.
        await turnOfEventLoop();
        const page = await store.readAll({ after: last, filter, maxCount: 500, ...readShape(fields, pageBytes) });
        const upToHandover = page.filter((event) => event.position <= handover);
        for (const event of upToHandover) {
          // The consumer may have asked for many results before it left: stop at once (LiveSubscription.closed).
          if (live.closed) return;
          // Ended by the feed (shutting down, too slow): said at once, not after the rest of the backlog.
          if (live.endedWith) throw live.endedWith;
          last = event.position;
          if (narrowed(event)) yield event;
        }
        // A short page may only be cut by the budget: the loop's condition says when the backlog is done.
        if (page.length === 0 || upToHandover.length < page.length) break;
      }
      for await (const event of live) {
        if (last !== undefined && event.position <= last) continue;
        last = event.position;
        yield event;
      }
    } catch (error) {
      throw resumableEnd(error, `subscribe again with after: "${last ?? ''}"`, { resumeAfter: last ?? null });
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
