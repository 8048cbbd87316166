/**
 * What an event costs to hold in memory, as far as a subscriber's backlog is
 * concerned: about the size of its data as JSON. Worked out once per event
 * and remembered beside it (the live feed hands the same object to every
 * subscriber), so a thousand subscribers do not weigh one event a thousand
 * times.
 */
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
/** A number, boolean or null, and the punctuation around any value. */
const SCALAR = 8;

/**
 * About the length of `JSON.stringify(value)` without building it: walks the
 * value with an explicit stack (deep data cannot overflow the call stack) and
 * adds up string lengths, keys included.
 */
export function approximateJsonBytes(value: unknown): number {
  let bytes = 0;
  const stack: object[] = [];
  const add = (item: unknown) => {
    if (typeof item === 'string') bytes += item.length + 2;
    else if (item !== null && typeof item === 'object') stack.push(item);
    else bytes += SCALAR;
  };
  add(value);
  while (stack.length > 0) {
    const item = stack.pop()!;
    bytes += 2;
    if (Array.isArray(item)) {
      for (const element of item) add(element);
    } else {
      for (const [key, child] of Object.entries(item)) {
        bytes += key.length + 4;
        add(child);
      }
    }
  }
  return bytes;
}
