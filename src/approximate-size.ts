/**
 * A cheap estimate of how much memory a JSON-shaped value holds, in bytes of
 * its JSON text: what caches weigh their entries by. Objects and arrays are
 * weighed once and remembered by identity: folded states are immutable and
 * share every part an event did not change, so weighing a new state costs
 * its new parts only (a heartbeat does not re-weigh a megabyte of training data).
 */
const weights = new WeakMap<object, number>();

export function approximateJsonBytes(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object') return 8;
  const known = weights.get(value);
  if (known !== undefined) return known;
  let bytes = 2;
  if (Array.isArray(value)) {
    for (const item of value) bytes += approximateJsonBytes(item) + 1;
  } else {
    for (const [key, item] of Object.entries(value)) bytes += key.length + 4 + approximateJsonBytes(item);
  }
  weights.set(value, bytes);
  return bytes;
}

/**
 * The same estimate, remembering nothing: for values weighed once and then
 * dropped (a recorded event's data, fresh from the store, shares no part
 * with anything). Remembering them would put every object of every event
 * read into the table above: a catch-up over a million events filled it
 * with millions of entries that only a full garbage collection clears.
 */
export function approximateJsonBytesOnce(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object') return 8;
  let bytes = 2;
  if (Array.isArray(value)) {
    for (const item of value) bytes += approximateJsonBytesOnce(item) + 1;
  } else {
    for (const key in value)
      bytes += key.length + 4 + approximateJsonBytesOnce((value as Record<string, unknown>)[key]);
  }
  return bytes;
}
