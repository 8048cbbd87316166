/**
 * What an event costs to hold in memory, as far as a subscriber's backlog is
 * concerned: about the size of its data as JSON. Worked out once per event
 * and remembered beside it (the live feed hands the same object to every
 * subscriber), so a thousand subscribers do not weigh one event a thousand
 * times.
 */
import { approximateJsonBytes } from './approximate-size.js';
import type { RecordedEvent } from './store/port.js';

const weights = new WeakMap<RecordedEvent, number>();

/** Bytes the event's data and metadata take, roughly (exact for ASCII strings, estimated for the rest). */
export function eventWeight(event: RecordedEvent): number {
  let weight = weights.get(event);
  if (weight === undefined) {
    weight = EVENT_OVERHEAD + approximateJsonBytes(event.data) + approximateJsonBytes(event.metadata);
    weights.set(event, weight);
  }
  return weight;
}

/** The envelope: ids, stream, type, position and timestamp strings and the object itself. */
const EVENT_OVERHEAD = 256;
