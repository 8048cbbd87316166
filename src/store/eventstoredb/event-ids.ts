/**
 * EventStoreDB takes only UUIDs as event ids, while Trialog's port (and an
 * export from SQLite, or a hand-made import file) allows any string. An id
 * that is not a UUID in the form the server gives back (lowercase, hyphenated)
 * is sent as a UUID made from it, the same every time (version 5, over a fixed
 * Trialog namespace), so the server's own dedupe by event id still recognises
 * a retried or resumed append; the id as given travels in the metadata and is
 * what reads report, so a log reads the same on either store.
 */
import { createHash } from 'node:crypto';

/** Metadata key carrying an event's own id when the id sent is made from it. */
export const ORIGINAL_ID_KEY = 'originalId';

/** Trialog's namespace for name-based event ids (a fixed random UUID: changing it would break resumed imports). */
export const TRIALOG_EVENT_ID_NAMESPACE = 'b38ea14f-93ad-4e23-8c9c-ec73325d4fd6';

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A name-based UUID, version 5 (SHA-1), as RFC 9562 section 5.5 defines it. Ten lines with node:crypto
 * rather than a dependency; checked against the RFC's own example in the tests.
 */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC's variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id to send for an event id: itself when the server keeps it as it is, else a UUID made from it. */
export function esdbEventId(id: string): { sent: string; original?: string } {
  return CANONICAL_UUID.test(id) ? { sent: id } : { sent: uuidV5(id, TRIALOG_EVENT_ID_NAMESPACE), original: id };
}

/** The id an event was appended with: the one its metadata carries, else the server's. */
export function recordedEventId(serverId: string, metadata: unknown): string {
  const original = (metadata as Record<string, unknown> | undefined)?.[ORIGINAL_ID_KEY];
  return typeof original === 'string' ? original : serverId;
}
