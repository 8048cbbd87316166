/**
 * The event store port: the one interface every store adapter implements
 * (SQLite in `sqlite-store.ts`, EventStoreDB in `eventstoredb-store.ts`) and
 * the one contract suite in `test/helpers/store-contract.ts` checks.
 *
 * Positions in the global log are opaque strings that every adapter makes
 * comparable as plain strings (fixed-width digits), so callers can order
 * and deduplicate events without knowing the adapter.
 */

/** What a caller expects of a stream before it appends. */
export type ExpectedRevision =
  | 'any'
  | 'no_stream'
  | 'stream_exists'
  /** The revision of the stream's last event (revisions start at 0). */
  | bigint;

export interface EventMetadata {
  /** Who caused the change: an API key's name, or `anonymous`. */
  actor: string;
  /** Shared by every event one request caused. */
  correlationId: string;
  /** The event (or request) that caused this one. */
  causationId: string;
  /** Version of the event's data shape; upcasters lift older ones. */
  schemaVersion: number;
  [key: string]: unknown;
}

export interface NewEvent {
  /** Unique; an append retried with the same ids writes nothing twice. */
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  /**
   * When the event happened, for imports that move a log between stores; the
   * store's own clock when absent. Reads report it as the event's timestamp.
   */
  timestamp?: string;
}

/** What every read returns of an event; `data` and `metadata` may be left out on request. */
export interface RecordedEventHeader {
  id: string;
  type: string;
  streamId: string;
  revision: bigint;
  /** Global position: comparable as a string, unique, increasing. */
  position: string;
  /** When the store recorded the event (ISO-8601). */
  timestamp: string;
}

export interface RecordedEvent extends RecordedEventHeader {
  data: unknown;
  metadata: EventMetadata;
}

/** What a read that may leave out `data` or `metadata` (see ReadShape) returns. */
export type RecordedEventPart = RecordedEventHeader & Partial<Pick<RecordedEvent, 'data' | 'metadata'>>;

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextExpectedRevision: bigint;
  /** Global position of the last appended event. */
  position: string;
}

/**
 * How much of each event a read returns, and how many bytes of data a page may
 * hold. Events can be megabytes each (training data, log batches): a page of
 * a thousand of them must not be read whole when only their types are wanted.
 */
export interface ReadShape {
  /**
   * false: the events come without `data`, which the store does not read or
   * parse where it can avoid it (SQLite does not read the column; EventStoreDB
   * sends it anyway and the adapter drops it at once). Default true.
   */
  withData?: boolean;
  /**
   * false: the events come without `metadata`. Small, but in SQLite it is
   * stored after the data, and reaching it walks the data's pages. Default true.
   */
  withMetadata?: boolean;
  /**
   * A byte budget for the page's data (its stored JSON, UTF-8): the read stops
   * before the event that would take the data read past it. The first event
   * is always returned, however large, so that paging progresses. A page cut
   * short by the budget holds fewer than `maxCount` events although more
   * follow. Ignored with `withData: false`.
   */
  maxBytes?: number;
}

/** A read of whole events (the default); any other read may leave `data` or `metadata` out. */
export type WholeEvents = { withData?: true; withMetadata?: true };

export interface ReadStreamOptions extends ReadShape {
  fromRevision?: bigint;
  maxCount?: number;
}

/** Narrows the global log. A category is the stream id's part before its first '-'. */
export interface EventFilter {
  streamId?: string;
  category?: string;
  types?: readonly string[];
  /** Categories left out (what a reader's role does not see): their positions are skipped. */
  excludeCategories?: readonly string[];
  /** Inclusive bounds on the event's timestamp (ISO-8601, UTC). */
  from?: string;
  to?: string;
}

export interface ReadAllOptions extends ReadShape {
  /** Exclusive: events strictly after this position. Absent: from the start. */
  after?: string;
  maxCount?: number;
  filter?: EventFilter;
}

/**
 * A subscription's connection to its store: `live` once the store has it (and
 * again after an outage), `retrying` from when it was lost until it is back.
 */
export type SubscriptionState = 'live' | 'retrying';

export interface SubscribeOptions {
  /** Exclusive: events strictly after this position. Absent: from the start. */
  after?: string;
  filter?: EventFilter;
  /**
   * Told each change of the subscription's state, with the error that ended
   * it on `retrying`. Stores that resubscribe by themselves (EventStoreDB)
   * call it; SQLite's subscription reads a local file, never loses it, and
   * never calls it: a subscription no one has been told is `retrying` is live.
   */
  onStateChange?: (state: SubscriptionState, error?: unknown) => void;
}

/** A catch-up subscription: the backlog first, then live events, no gap and no repeat. */
export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * The largest append this store takes, in bytes as `appendBytes` (append-size.ts) counts them. A larger
   * append is refused with AppendTooLargeError (TOO_LARGE) before anything is written; a command that
   * appends to several streams checks each append against it before the first.
   */
  readonly maxAppendBytes: number;
  /** Resolves only once the events are durable. */
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Oldest first. An unknown stream reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions & WholeEvents): Promise<RecordedEvent[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEventPart[]>;
  /** A page of the global log, oldest first. */
  readAll(options?: ReadAllOptions & WholeEvents): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEventPart[]>;
  subscribeToAll(options?: SubscribeOptions): EventSubscription;
  /** Position of the newest event, or undefined when the log is empty. */
  headPosition(): Promise<string | undefined>;
  /**
   * A position as given by a client, in this store's canonical (comparable)
   * form; throws RangeError when it is not a position of this store.
   */
  normalizePosition(position: string): string;
  close(): Promise<void>;
}

/** The stream was not at the revision the caller expected. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** `undefined` when the stream does not exist. */
    readonly actual: bigint | undefined,
  ) {
    super(
      `stream ${streamId}: expected ${String(expected)}, ` +
        `actual ${actual === undefined ? 'no stream' : String(actual)}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/** An append reused event ids in a way that is not a faithful retry. */
export class DuplicateEventIdError extends Error {
  constructor(readonly eventId: string) {
    super(`event id ${eventId} was already used by a different append`);
    this.name = 'DuplicateEventIdError';
  }
}

export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

export function matchesFilter(event: RecordedEventHeader, filter: EventFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.streamId !== undefined && event.streamId !== filter.streamId) return false;
  if (filter.category !== undefined && categoryOf(event.streamId) !== filter.category) return false;
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  if (filter.excludeCategories?.includes(categoryOf(event.streamId))) return false;
  if (filter.from !== undefined && Date.parse(event.timestamp) < Date.parse(filter.from)) return false;
  if (filter.to !== undefined && Date.parse(event.timestamp) > Date.parse(filter.to)) return false;
  return true;
}
