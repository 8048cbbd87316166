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
