/**
 * EventStoreDB adapter (@eventstore/db-client 6.x), for production and for
 * several Trialog servers on one log. Kept thin: it maps the port's types onto
 * the client's and adds only what the client lacks (string positions, filters
 * on reads, resubscription after a dropped subscription).
 */
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
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position,
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
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './port.js';

const DIGITS = 20;
const DEFAULT_PAGE = 1000;

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
    timestamp: event.created.toISOString(),
    data: event.data,
    metadata: event.metadata as EventMetadata,
  };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
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
            metadata: event.metadata,
          }),
        ),
        { expectedRevision: toClientExpected(expected) },
      );
      if (!result.position) throw new Error(`append to ${streamId} returned no position`);
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        position: formatEsdbPosition(result.position),
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

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: options.fromRevision ?? START,
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      });
      for await (const resolved of read) events.push(toRecorded(resolved));
    } catch (error) {
      // Thrown lazily, on the first iteration, for a stream that does not exist.
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.maxCount ?? DEFAULT_PAGE;
    if (options.filter?.streamId !== undefined) {
      // One stream: read just it, not the whole log.
      const all = await this.readStream(options.filter.streamId);
      return all
        .filter((e) => (options.after === undefined || e.position > options.after) && matchesFilter(e, options.filter))
        .slice(0, limit);
    }
    const events: RecordedEvent[] = [];
    const read = this.client.readAll({
      direction: FORWARDS,
      fromPosition: options.after ? parseEsdbPosition(options.after) : START,
      maxCount: Number.MAX_SAFE_INTEGER,
    });
    for await (const resolved of read) {
      if (!isOurs(resolved)) continue;
      const event = toRecorded(resolved);
      // readAll's fromPosition is inclusive; ours is exclusive.
      if (options.after !== undefined && event.position <= options.after) continue;
      if (!matchesFilter(event, options.filter)) continue;
      events.push(event);
      if (events.length >= limit) break;
    }
    return events;
  }

  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    const client = this.client;
    let last = options.after;
    let closed = false;
    let current: ReturnType<EventStoreDBClient['subscribeToAll']> | undefined;

    // The client does not resubscribe by itself: on a dropped subscription,
    // start again after the last event handed out, with backoff.
    async function* events(): AsyncGenerator<RecordedEvent> {
      let backoffMs = 100;
      while (!closed) {
        try {
          current = client.subscribeToAll({
            fromPosition: last ? parseEsdbPosition(last) : START,
            filter: excludeSystemEvents(),
          });
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
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5000);
        }
      }
    }

    const iterator = events();
    return {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        closed = true;
        await current?.unsubscribe();
        await iterator.return(undefined);
      },
    };
  }

  async headPosition(): Promise<string | undefined> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: Number.MAX_SAFE_INTEGER });
    for await (const resolved of read) {
      if (isOurs(resolved)) return toRecorded(resolved).position;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
