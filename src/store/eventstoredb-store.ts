/**
 * EventStoreDB adapter (@eventstore/db-client 6.x), for production and for
 * several Trialog servers on one log. Kept thin: it maps the port's types onto
 * the client's and adds only what the client lacks (string positions, filters
 * on reads, resubscription after a dropped subscription).
 *
 * The server may be shared with other applications: Trialog reads and
 * subscribes to its own streams only (see eventstoredb/ownership.ts), filtered
 * on the server (eventstoredb/filters.ts, eventstoredb/filtered-read.ts).
 */
import { ConfigError } from '../config.js';
import { redactUrl } from '../redact-url.js';
import { DEFAULT_MAX_APPEND_BYTES, assertAppendFits } from './append-size.js';
import { ORIGINAL_ID_KEY, esdbEventId, recordedEventId } from './eventstoredb/event-ids.js';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Filter,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import { appendedRevision, throwingOnAppendFailure } from './eventstoredb/append-outcome.js';
import { serverFilterFor } from './eventstoredb/filters.js';
import { readAllFiltered } from './eventstoredb/filtered-read.js';
import { trialogOwnership, type LogOwnership } from './eventstoredb/ownership.js';
import { firstRevisionAfter, inPages, type StreamProbe } from './eventstoredb/paging.js';
import { resubscribing, type BackoffPolicy, type SubscriptionAttempt } from './eventstoredb/subscription.js';
import {
  WrongExpectedRevisionError,
  matchesFilter,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadShape,
  type ReadStreamOptions,
  type RecordedEvent,
  type RecordedEventPart,
  type SubscribeOptions,
  type WholeEvents,
} from './port.js';

const DIGITS = 20;
const DEFAULT_PAGE = 1000;
/** Every server read asks for a bounded number of events, read lazily (see `lazily`). */
const CHUNK = 500;

/** `commit-prepare`, both zero-padded, so positions compare as strings. */
export function formatEsdbPosition(position: Position): string {
  return `${position.commit.toString().padStart(DIGITS, '0')}-${position.prepare.toString().padStart(DIGITS, '0')}`;
}

export function parseEsdbPosition(position: string): Position {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(position);
  if (!match) throw new RangeError(`not an EventStoreDB position: ${position}`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

function toClientExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return expected;
}

/**
 * An event as it is sent: an imported event's own time travels in its metadata, and so does an id that is
 * not a UUID, sent as a UUID made from it (event-ids.ts); toRecorded reports both as they were given.
 */
function asSent(event: NewEvent): { id: string; type: string; data: unknown; metadata: EventMetadata } {
  const { sent, original } = esdbEventId(event.id);
  let metadata = event.metadata;
  if (event.timestamp) metadata = { ...metadata, originalTimestamp: new Date(event.timestamp).toISOString() };
  if (original !== undefined) metadata = { ...metadata, [ORIGINAL_ID_KEY]: original };
  return { id: sent, type: event.type, data: event.data, metadata };
}

/**
 * A server read's events, read as the consumer asks for them: leaving early
 * cancels the server's call (destroying the read alone would leave it open),
 * so the server sends little more of a page than was consumed of it.
 */
async function* lazily<E>(read: StreamingRead<E>): AsyncGenerator<E> {
  let ended = false;
  try {
    for await (const event of read) yield event;
    ended = true;
  } finally {
    if (!ended) await read.cancel().catch(() => {});
  }
}

export interface EventStoreDbOptions {
  /** Which streams of a shared server are the application's. Default: Trialog's own categories. */
  ownership?: LogOwnership;
  /** How subscriptions back off between resubscriptions. */
  backoff?: BackoffPolicy;
  /** The largest append sent (append-size.ts): the server's MaxAppendSize. Default: its default, 1 MiB. */
  maxAppendBytes?: number;
  /** Where a lost subscription's retries are reported (one line each). Default: stderr. */
  warn?: (line: string) => void;
}

function withoutOriginalTimestamp(metadata: unknown): EventMetadata {
  const { originalTimestamp: _original, [ORIGINAL_ID_KEY]: _id, ...rest } = (metadata ?? {}) as Record<string, unknown>;
  return rest as EventMetadata;
}

function originalTimestamp(metadata: unknown): string | undefined {
  const value = (metadata as { originalTimestamp?: unknown } | undefined)?.originalTimestamp;
  return typeof value === 'string' ? value : undefined;
}

function toRecorded(resolved: AllStreamResolvedEvent | ResolvedEvent): RecordedEvent {
  const event = resolved.event!;
  if (!event.isJson || event.position === undefined) {
    throw new TypeError(`event ${event.id} on ${event.streamId} is not a Trialog event`);
  }
  return {
    id: recordedEventId(event.id, event.metadata),
    type: event.type,
    streamId: event.streamId,
    revision: event.revision,
    position: formatEsdbPosition(event.position),
    // The server sets `created` itself: an imported event's own time travels in its metadata, and is
    // reported as the event's timestamp (and not as metadata, so a log moved between stores reads the same).
    timestamp: originalTimestamp(event.metadata) ?? event.created.toISOString(),
    data: event.data,
    metadata: withoutOriginalTimestamp(event.metadata),
  };
}

/**
 * The page's shape on EventStoreDB. The server sends every event whole: data
 * cannot be skipped server-side, so a read without data (or metadata) drops it
 * as each event arrives, and a byte budget is counted on the data as received
 * (its JSON, measured again here since the client hands it over parsed). Both
 * bound what a page holds, not what the server sends.
 */
function pageShaper(shape: ReadShape): (event: RecordedEvent) => RecordedEventPart | undefined {
  const budget = shape.withData === false ? undefined : shape.maxBytes;
  let used = 0;
  let count = 0;
  return (event) => {
    if (budget !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(event.data) ?? '');
      if (count > 0 && used + bytes > budget) return undefined;
      used += bytes;
    }
    count++;
    const { data, metadata, ...header } = event;
    const part: RecordedEventPart = header;
    if (shape.withData !== false) part.data = data;
    if (shape.withMetadata !== false) part.metadata = metadata;
    return part;
  };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly ownership: LogOwnership;
  private readonly warn: ((line: string) => void) | undefined;
  private readonly backoff: BackoffPolicy | undefined;
  readonly maxAppendBytes: number;

  constructor(connectionString: string, options: EventStoreDbOptions = {}) {
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES.eventstoredb;
    try {
      this.client = EventStoreDBClient.connectionString(connectionString);
    } catch (error) {
      // The client's parse error carries the whole string (password included) as a property, which a printed
      // error shows, and its message quotes the part it stopped at, which may be the password: say where and what
      // was expected, with the string redacted, and nothing else.
      const { location, expected } = error as { location?: [number, number]; expected?: string };
      const where = location && expected ? ` (at character ${location[0]}: expected ${expected})` : '';
      throw new ConfigError(
        `invalid configuration: EVENTSTORE_URL is not a valid connection string${where}: ${redactUrl(connectionString)}`,
      );
    }
    throwingOnAppendFailure(this.client);
    this.ownership = options.ownership ?? trialogOwnership;
    this.warn = options.warn;
    this.backoff = options.backoff;
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('appendToStream needs at least one event');
    const expected = options.expectedRevision ?? 'any';
    const sent = events.map(asSent);
    // The server would refuse it (after the client sent it whole): refused here, with the limit it broke.
    assertAppendFits(streamId, sent, this.maxAppendBytes);
    try {
      const result = await this.client.appendToStream(
        streamId,
        sent.map((event) => jsonEvent({ ...event, data: event.data as Record<string, unknown> })),
        { expectedRevision: toClientExpected(expected) },
      );
      const revision = appendedRevision(streamId, expected, result);
      return {
        nextExpectedRevision: revision,
        // The append's own answer carries the commit position twice, not the last
        // event's position in $all, which callers compare with projected positions.
        position: await this.positionOf(streamId, revision),
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        // The client reports a missing stream as the string "no_stream".
        const actual = typeof error.actualVersion === 'bigint' ? error.actualVersion : undefined;
        throw new WrongExpectedRevisionError(streamId, expected, actual);
      }
      throw error;
    }
  }

  readStream(streamId: string, options?: ReadStreamOptions & WholeEvents): Promise<RecordedEvent[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEventPart[]>;
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEventPart[]> {
    const events: RecordedEventPart[] = [];
    const limit = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const shape = pageShaper(options);
    if (limit <= 0) return events;
    for await (const event of this.streamEvents(streamId, options.fromRevision ?? 0n, limit)) {
      const part = shape(event);
      if (!part) break;
      events.push(part);
      if (events.length >= limit) break;
    }
    return events;
  }

  /**
   * One stream from a revision, oldest first, in server reads of at most a
   * page (fewer when the caller wants fewer), each read lazily: leaving the
   * loop early cancels the server's call, so a short page of a long stream
   * reads little more than it.
   */
  private streamEvents(
    streamId: string,
    fromRevision: bigint,
    wanted = Number.MAX_SAFE_INTEGER,
  ): AsyncGenerator<RecordedEvent> {
    return inPages(
      (from, maxCount) => this.streamPage(streamId, FORWARDS, from, maxCount),
      fromRevision,
      Math.min(CHUNK, wanted),
    );
  }

  private async *streamPage(
    streamId: string,
    direction: typeof FORWARDS | typeof BACKWARDS,
    fromRevision: bigint | typeof END,
    maxCount: number,
  ): AsyncGenerator<RecordedEvent> {
    try {
      for await (const resolved of lazily(this.client.readStream(streamId, { direction, fromRevision, maxCount }))) {
        yield toRecorded(resolved);
      }
    } catch (error) {
      // Thrown lazily, on the first iteration, for a stream that does not exist.
      if (error instanceof StreamNotFoundError) return;
      throw error;
    }
  }

  /** The one event a read yields first, or undefined; the read is then cancelled. */
  private async first<E>(events: AsyncIterable<E>): Promise<E | undefined> {
    for await (const event of events) return event;
    return undefined;
  }

  /** Where a page of one stream's events after a position of $all starts (see paging.ts). */
  private streamProbe(streamId: string): StreamProbe {
    return {
      eventAt: async (position) => {
        const [resolved] = await this.readAllChunk(FORWARDS, parseEsdbPosition(position), 1);
        const event = resolved?.event;
        return event?.position && formatEsdbPosition(event.position) === position ? event : undefined;
      },
      eventFrom: (revision) => this.first(this.streamPage(streamId, FORWARDS, revision, 1)),
      lastEvent: () => this.first(this.streamPage(streamId, BACKWARDS, END, 1)),
    };
  }

  /** An event of $all, as the port's, when it is the application's (see ownership.ts); undefined otherwise. */
  private ownEvent(resolved: AllStreamResolvedEvent | ResolvedEvent): RecordedEvent | undefined {
    const event = resolved.event;
    if (event === undefined || !event.isJson || !this.ownership.owns(event)) return undefined;
    return toRecorded(resolved);
  }

  readAll(options?: ReadAllOptions & WholeEvents): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEventPart[]>;
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEventPart[]> {
    const limit = options.maxCount ?? DEFAULT_PAGE;
    const shape = pageShaper(options);
    const events: RecordedEventPart[] = [];
    if (limit <= 0) return events;
    const serverFilter = serverFilterFor(this.ownership, options.filter);
    // Nothing of the application's can match (another application's stream, a type it never writes).
    if (serverFilter === undefined) return events;
    if (options.filter?.streamId !== undefined) {
      // One stream: read just it, not the whole log, from its first revision after the cursor.
      const streamId = options.filter.streamId;
      const from =
        options.after === undefined
          ? 0n
          : await firstRevisionAfter(streamId, options.after, this.streamProbe(streamId));
      for await (const event of this.streamEvents(streamId, from)) {
        if (options.after !== undefined && event.position <= options.after) continue;
        if (!this.ownership.owns(event) || !matchesFilter(event, options.filter)) continue;
        const part = shape(event);
        if (!part) break;
        events.push(part);
        if (events.length >= limit) break;
      }
      return events;
    }
    const from: ReadPosition = options.after ? parseEsdbPosition(options.after) : START;
    for await (const event of this.ownEventsOfAll(FORWARDS, from, serverFilter)) {
      if (!matchesFilter(event, options.filter)) continue;
      const part = shape(event);
      if (!part) break;
      events.push(part);
      if (events.length >= limit) break;
    }
    return events;
  }

  /**
   * The application's events of $all strictly after (or before) a position,
   * filtered on the server, in pages of CHUNK read lazily: leaving early
   * cancels the page's call.
   */
  private async *ownEventsOfAll(
    direction: typeof FORWARDS | typeof BACKWARDS,
    start: ReadPosition,
    filter: Filter,
  ): AsyncGenerator<RecordedEvent> {
    let from = start;
    for (;;) {
      // fromPosition is inclusive; ours is exclusive, and each page starts at the last one's end.
      const skip = typeof from === 'object' ? formatEsdbPosition(from) : undefined;
      let received = 0;
      let lastPosition: Position | undefined;
      const page = readAllFiltered(this.client, { direction, fromPosition: from, maxCount: CHUNK, filter });
      for await (const resolved of lazily(page)) {
        received++;
        lastPosition = resolved.event?.position ?? lastPosition;
        const event = this.ownEvent(resolved);
        if (event && event.position !== skip) yield event;
      }
      // The server reads on until a page is full or $all ends: a short page is the end.
      if (received < CHUNK || !lastPosition) return;
      from = lastPosition;
    }
  }

  /** One bounded, unfiltered read of $all, consumed to its end so the server's call completes. */
  private async readAllChunk(
    direction: typeof FORWARDS | typeof BACKWARDS,
    from: ReadPosition,
    maxCount = CHUNK,
  ): Promise<AllStreamResolvedEvent[]> {
    const chunk: AllStreamResolvedEvent[] = [];
    for await (const resolved of this.client.readAll({ direction, fromPosition: from, maxCount })) {
      chunk.push(resolved);
    }
    return chunk;
  }

  /** The $all position of one event of a stream (servers from 22.6 report it on stream reads). */
  private async positionOf(streamId: string, revision: bigint): Promise<string> {
    for await (const resolved of this.client.readStream(streamId, {
      direction: FORWARDS,
      fromRevision: revision,
      maxCount: 1,
    })) {
      const position = resolved.event?.position;
      if (position) return formatEsdbPosition(position);
    }
    throw new Error(`no position for ${streamId}@${revision}: Trialog needs EventStoreDB 22.6 or newer`);
  }

  /**
   * Resubscribes after every failure or end, with backoff, for as long as it
   * is open (eventstoredb/subscription.ts), and says so through
   * `onStateChange`: 'retrying' while the server cannot be followed.
   */
  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    // A filter nothing owned can match still subscribes, to the owned streams: it delivers nothing.
    const serverFilter = serverFilterFor(this.ownership, options.filter) ?? serverFilterFor(this.ownership)!;
    return resubscribing({
      after: options.after === undefined ? undefined : this.normalizePosition(options.after),
      subscribe: (after, onLive) => this.subscribeOnce(after, serverFilter, options, onLive),
      onStateChange: options.onStateChange,
      backoff: this.backoff,
      ...(this.warn ? { log: this.warn } : {}),
    });
  }

  /** One subscription to the server, after a position, filtered there and checked here. */
  private subscribeOnce(
    after: string | undefined,
    serverFilter: Filter,
    options: SubscribeOptions,
    onLive: () => void,
  ): SubscriptionAttempt {
    const subscription = this.client.subscribeToAll({
      fromPosition: after === undefined ? START : parseEsdbPosition(after),
      filter: serverFilter,
    });
    subscription.once('confirmation', onLive);
    const own = (resolved: AllStreamResolvedEvent) => this.ownEvent(resolved);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const resolved of subscription) {
          const event = own(resolved);
          if (event && matchesFilter(event, options.filter)) yield event;
        }
      },
      close: () => subscription.unsubscribe(),
    };
  }

  normalizePosition(position: string): string {
    return formatEsdbPosition(parseEsdbPosition(position));
  }

  /** The newest of the application's events: read backwards, filtered on the server. */
  async headPosition(): Promise<string | undefined> {
    return (await this.first(this.ownEventsOfAll(BACKWARDS, END, serverFilterFor(this.ownership)!)))?.position;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
