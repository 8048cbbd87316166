/**
 * Any recorded event in its current shape: older versions upcast, as the
 * domain and the projections read them, whatever kind of aggregate it is of
 * (the kind registry knows each type's versions and upcasters). What the
 * audit API and export show.
 */
import { kindOfEventType } from '../domain/kinds.js';
import type { EventMetadata, RecordedEvent } from '../store/port.js';

export function currentShape(event: RecordedEvent): RecordedEvent {
  const stored = storedVersion(event);
  if (stored === undefined) return event;
  return { ...event, data: stored.kind.upcast(event), metadata: stored.metadata };
}

/** The metadata as `currentShape` reports it, for a page read without data. */
export function currentMetadata(event: Pick<RecordedEvent, 'type' | 'metadata'>): EventMetadata {
  return storedVersion(event)?.metadata ?? event.metadata;
}

/** The kind of an older event, and its metadata as the current version reports it (undefined: current already). */
function storedVersion(event: Pick<RecordedEvent, 'type' | 'metadata'>) {
  const kind = kindOfEventType(event.type);
  if (!kind) return undefined;
  const current = kind.eventVersion(event.type);
  const version = kind.recordedVersion(event);
  if (version >= current) return undefined;
  const metadata: EventMetadata = { ...event.metadata, schemaVersion: current, storedSchemaVersion: version };
  return { kind, metadata };
}
