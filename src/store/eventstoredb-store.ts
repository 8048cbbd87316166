/**
 * EventStoreDB adapter (@eventstore/db-client 6.x), for production and for
 * several Trialog servers on one log. Kept thin: it maps the port's types onto
 * the client's and adds only what the client lacks (string positions, filters
 * on reads, resubscription after a dropped subscription).
 */
import { ConfigError } from '../config.js';
import { redactUrl } from '../redact-url.js';
import {
  ANY,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Direction,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
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
/** Every server read asks for a bounded number of events and is read to its end. */
const CHUNK = 500;

/** Errors after which a subscription is worth starting again; any other ends it. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError
  );
}

/** `commit-prepare`, both zero-padded, so positions compare as strings. */
export function formatEsdbPosition(position: Position): string {
  return `${position.commit.toString().padStart(DIGITS, '0')}-${position.prepare
    .toString()
    .padStart(DIGITS, '0')}`;
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

/** Our streams never start with '$'; the server's own do. */
function isOurs(resolved: AllStreamResolvedEvent | ResolvedEvent): boolean {
  const event = resolved.event;
  return event !== undefined && !event.streamId.startsWith('$') && !event.type.startsWith('$');
}

function withoutOriginalTimestamp(metadata: unknown): EventMetadata {
  const { originalTimestamp: _original, ...rest } = (metadata ?? {}) as Record<string, unknown>;
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
    id: event.id,
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

  constructor(connectionString: string) {
    try {
      this.client = EventStoreDBClient.connectionString(connectionString);
    } catch (error) {
      // The client's parse error carries the whole string (password included) as a property, which a printed
      // error shows, and its message quotes the part it stopped at, which may be the password: say where and what
      // was expected, with the string redacted, and nothing else.
      const { location, expected } = error as { location?: [number, number]; expected?: string };
      const where = location && expected ? ` (at character ${location[0]}: expected ${expected})` : '';
      throw new ConfigError(`invalid configuration: EVENTSTORE_URL is not a valid connection string${where}: ${redactUrl(connectionString)}`);
    }
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('appendToStream needs at least one event');
    const expected = options.expectedRevision ?? 'any';
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((event) =>
          jsonEvent({
            id: event.id,
            type: event.type,
            data: event.data as Record<string, unknown>,
            metadata: event.timestamp
              ? { ...event.metadata, originalTimestamp: new Date(event.timestamp).toISOString() }
              : event.metadata,
          }),
        ),
        { expectedRevision: toClientExpected(expected) },
      );
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        // The append's own answer carries the commit position twice, not the last
        // event's position in $all, which callers compare with projected positions.
        position: await this.positionOf(streamId, result.nextExpectedRevision),
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
    for await (const event of this.streamEvents(streamId, options.fromRevision ?? START, limit)) {
      const part = shape(event);
      if (!part) break;
      events.push(part);
      if (events.length >= limit) break;
    }
    return events;
  }

  /**
   * One stream, oldest first, read lazily: leaving the loop early cancels the
   * server's call, so a short page of a long stream reads little more than it.
   */
  private async *streamEvents(
    streamId: string,
    fromRevision: bigint | typeof START,
    maxCount = Number.MAX_SAFE_INTEGER,
  ): AsyncGenerator<RecordedEvent> {
    try {
      const read = this.client.readStream(streamId, { direction: FORWARDS, fromRevision, maxCount });
      for await (const resolved of read) yield toRecorded(resolved);
    } catch (error) {
      // Thrown lazily, on the first iteration, for a stream that does not exist.
      if (error instanceof StreamNotFoundError) return;
      throw error;
    }
  }

  readAll(options?: ReadAllOptions & WholeEvents): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEventPart[]>;
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEventPart[]> {
    const limit = options.maxCount ?? DEFAULT_PAGE;
    const shape = pageShaper(options);
    const events: RecordedEventPart[] = [];
    if (limit <= 0) return events;
    if (options.filter?.streamId !== undefined) {
      // One stream: read just it, not the whole log.
      for await (const event of this.streamEvents(options.filter.streamId, START)) {
        if (options.after !== undefined && event.position <= options.after) continue;
        if (!matchesFilter(event, options.filter)) continue;
        const part = shape(event);
        if (!part) break;
        events.push(part);
        if (events.length >= limit) break;
      }
      return events;
    }
    let from: ReadPosition = options.after ? parseEsdbPosition(options.after) : START;
    let seen = options.after;
    for (;;) {
      const chunk = await this.readAllChunk(FORWARDS, from);
      for (const resolved of chunk) {
        if (!isOurs(resolved)) continue;
        const event = toRecorded(resolved);
        // fromPosition is inclusive; ours is exclusive, and each chunk starts at the last one's end.
        if (seen !== undefined && event.position <= seen) continue;
        seen = event.position;
        if (!matchesFilter(event, options.filter)) continue;
        const part = shape(event);
        if (!part) return events;
        events.push(part);
        if (events.length >= limit) return events;
      }
      const last = chunk[chunk.length - 1]?.event?.position;
      if (chunk.length < CHUNK || !last) return events;
      from = last;
    }
  }

  /** One bounded read of $all, consumed to its end so the server's call completes. */
  private async readAllChunk(direction: Direction, from: ReadPosition): Promise<AllStreamResolvedEvent[]> {
    const chunk: AllStreamResolvedEvent[] = [];
    for await (const resolved of this.client.readAll({ direction, fromPosition: from, maxCount: CHUNK })) {
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

  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    const client = this.client;
    let last = options.after === undefined ? undefined : this.normalizePosition(options.after);
    let closed = false;
    let current: ReturnType<EventStoreDBClient['subscribeToAll']> | undefined;

    // The client does not resubscribe by itself: after a transient failure,
    // start again after the last event handed out, with backoff. Any other
    // error (a malformed event, access denied) ends the subscription.
    async function* events(): AsyncGenerator<RecordedEvent> {
      let backoffMs = 100;
      while (!closed) {
        const from = last ? parseEsdbPosition(last) : START;
        current = client.subscribeToAll({ fromPosition: from, filter: excludeSystemEvents() });
        try {
          for await (const resolved of current) {
            backoffMs = 100;
            if (!isOurs(resolved)) continue;
            const event = toRecorded(resolved);
            if (last !== undefined && event.position <= last) continue;
            last = event.position;
            if (matchesFilter(event, options.filter)) yield event;
          }
        } catch (error) {
          if (closed) return;
          if (!isTransient(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5000);
        } finally {
          await current.unsubscribe().catch(() => {});
        }
      }
    }

    const iterator = events();
    return {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        closed = true;
        await current?.unsubscribe().catch(() => {});
        await iterator.return(undefined);
      },
    };
  }

  normalizePosition(position: string): string {
    return formatEsdbPosition(parseEsdbPosition(position));
  }

  async headPosition(): Promise<string | undefined> {
    let from: ReadPosition = END;
    for (;;) {
      const chunk = await this.readAllChunk(BACKWARDS, from);
      const ours = chunk.find(isOurs);
      if (ours) return toRecorded(ours).position;
      const last = chunk[chunk.length - 1]?.event?.position;
      if (chunk.length < CHUNK || !last) return undefined;
      from = last;
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
