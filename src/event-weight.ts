/**
 * What an event costs to hold in memory, as far as a subscriber's backlog is
 * concerned: about the size of its data as JSON. Worked out once per event
 * and remembered beside it (the live feed hands the same object to every
 * subscriber), so a thousand subscribers do not weigh one event a thousand
 * times.
 */
import { approximateJsonBytesOnce } from './approximate-size.js';
import type { RecordedEvent } from './store/port.js';

/**
 * Kept on the event itself (a non-enumerable symbol property), not in a WeakMap: the runner weighs
 * every event it reads, and a catch-up over millions of events would fill an ephemeron table.
 */
const WEIGHT = Symbol('event weight');

/** Bytes the event's data and metadata take, roughly (exact for ASCII strings, estimated for the rest). */
export function eventWeight(event: RecordedEvent): number {
  const known = (event as RecordedEvent & { [WEIGHT]?: number })[WEIGHT];
  if (known !== undefined) return known;
  const weight = EVENT_OVERHEAD + approximateJsonBytesOnce(event.data) + approximateJsonBytesOnce(event.metadata);
  Object.defineProperty(event, WEIGHT, { value: weight, configurable: true });
  return weight;
}

/** The envelope: ids, stream, type, position and timestamp strings and the object itself. */
const EVENT_OVERHEAD = 256;
