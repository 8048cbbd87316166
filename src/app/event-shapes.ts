/**
 * Any recorded event in its current shape: older versions upcast, as the
 * domain and the projections read them. What the audit API and export show.
 */
import { isJobEventType } from '../domain/job/events.js';
import { jobEventVersion, upcastJobData } from '../domain/job/upcasters.js';
import type { EventMetadata, RecordedEvent } from '../store/port.js';

export function currentShape(event: RecordedEvent): RecordedEvent {
  const stored = storedVersion(event);
  if (stored === undefined) return event;
  return {
    ...event,
    data: upcastJobData(event.type, stored.version, event.data, event.timestamp),
    metadata: stored.metadata,
  };
}

/** The metadata as `currentShape` reports it, for a page read without data. */
export function currentMetadata(event: Pick<RecordedEvent, 'type' | 'metadata'>): EventMetadata {
  return storedVersion(event)?.metadata ?? event.metadata;
}

/** The version an older event was stored in, and its metadata as the current version reports it. */
function storedVersion(
  event: Pick<RecordedEvent, 'type' | 'metadata'>,
): { version: number; metadata: EventMetadata } | undefined {
  if (!isJobEventType(event.type)) return undefined;
  const current = jobEventVersion(event.type);
  const version = typeof event.metadata.schemaVersion === 'number' ? event.metadata.schemaVersion : current;
  if (version >= current) return undefined;
  return { version, metadata: { ...event.metadata, schemaVersion: current, storedSchemaVersion: version } };
}
