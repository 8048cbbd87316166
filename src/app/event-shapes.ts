/**
 * Any recorded event in its current shape: older versions upcast, as the
 * domain and the projections read them. What the audit API and export show.
 */
import { isJobEventType } from '../domain/job/events.js';
import { jobEventVersion, upcastJobData } from '../domain/job/upcasters.js';
import type { RecordedEvent } from '../store/port.js';

export function currentShape(event: RecordedEvent): RecordedEvent {
  if (!isJobEventType(event.type)) return event;
  const current = jobEventVersion(event.type);
  const version = typeof event.metadata.schemaVersion === 'number' ? event.metadata.schemaVersion : current;
  if (version >= current) return event;
  return {
    ...event,
    data: upcastJobData(event.type, version, event.data, event.timestamp),
    metadata: { ...event.metadata, schemaVersion: current, storedSchemaVersion: version },
  };
}
