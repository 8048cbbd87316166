/**
 * How large one append may be, measured the way EventStoreDB measures it, and
 * the error a store answers with before writing anything when it is larger.
 *
 * EventStoreDB refuses an append whose events together exceed its
 * `MaxAppendSize` (1 MiB by default), counting each event as the server's
 * `Event.SizeOnDisk` does: the bytes of its data, the bytes of its metadata,
 * and two bytes per UTF-16 code unit of its type. Both adapters count the same
 * way, so a limit means the same thing on either store, and a command can ask
 * before it writes whether each of its appends fits (`store.maxAppendBytes`).
 */
import { DomainError } from '../domain/errors.js';

/** What an append sends of one event: its type, and its data and metadata as JSON. */
export interface SizedEvent {
  type: string;
  data: unknown;
  metadata: unknown;
}

/** The store's largest append by default (TRIALOG_MAX_APPEND_BYTES sets another). */
export const DEFAULT_MAX_APPEND_BYTES = {
  /** EventStoreDB's default `MaxAppendSize`; a server started with another needs the same value here. */
  eventstoredb: 1024 * 1024,
  /**
   * What SQLite takes today: one value (an event's data) may be as long as better-sqlite3 lets a string be
   * (SQLITE_LIMIT_LENGTH set to V8's longest string, 2^29 - 24 bytes). Far above any append the API can send.
   */
  sqlite: 2 ** 29 - 24,
} as const;

/** One event's size as EventStoreDB counts it (data + metadata + 2 bytes per character of the type). */
export function eventBytes(event: SizedEvent): number {
  return serializedEventBytes(event.type, JSON.stringify(event.data) ?? '', JSON.stringify(event.metadata) ?? '');
}

/** The same, for an event whose data and metadata are JSON already (a store that serializes once). */
export function serializedEventBytes(
  type: string,
  dataJson: string | undefined,
  metadataJson: string | undefined,
): number {
  return Buffer.byteLength(dataJson ?? '') + Buffer.byteLength(metadataJson ?? '') + 2 * type.length;
}

/** An append's size: the sum of its events'. */
export function appendBytes(events: readonly SizedEvent[]): number {
  let total = 0;
  for (const event of events) total += eventBytes(event);
  return total;
}

/** An append larger than the store takes: refused before anything is sent, so nothing of it is written. */
export class AppendTooLargeError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      'TOO_LARGE',
      `the change to ${streamId} is ${bytes} bytes as stored (event data and metadata); the event store takes at most ` +
        `${maxBytes} bytes in one append (TRIALOG_MAX_APPEND_BYTES): nothing was written`,
      { bytes, maxBytes },
    );
    this.name = 'AppendTooLargeError';
  }
}

/** Throws AppendTooLargeError when `events` together exceed `maxBytes`. */
export function assertAppendFits(streamId: string, events: readonly SizedEvent[], maxBytes: number): void {
  const bytes = appendBytes(events);
  if (bytes > maxBytes) throw new AppendTooLargeError(streamId, bytes, maxBytes);
}
