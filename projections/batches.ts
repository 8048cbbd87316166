/**
 * Groups an async stream into batches: a batch holds everything that is
 * already available (up to `max`), so a burst is applied in one transaction
 * while a lone live event is applied at once, without waiting for company.
 */
const NOT_READY = Symbol('not ready');

export async function* batchesOf<T>(
  source: AsyncIterable<T>,
  max: number,
  /** A batch also ends once its items weigh this much (the first item always goes in). */
  bound: { maxWeight: number; weigh: (item: T) => number } = { maxWeight: Infinity, weigh: () => 0 },
): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const first = await pending;
    if (first.done) return;
    const batch = [first.value];
    let weight = bound.weigh(first.value);
    pending = iterator.next();
    // setImmediate runs after pending microtasks: a value the source can give
    // without I/O has settled by then, one that needs I/O has not. One per batch.
    const tick = new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));
    while (batch.length < max && weight < bound.maxWeight) {
      const next = await Promise.race([pending, tick]);
      if (next === NOT_READY) break;
      if (next.done) {
        yield batch;
        return;
      }
      batch.push(next.value);
      weight += bound.weigh(next.value);
      pending = iterator.next();
    }
    yield batch;
    // A batch that filled up before its tick: let the event loop turn before the next one. Without
    // this a catch-up runs on microtasks alone, its ticks never fire, and every event it read stays
    // reachable from them until the end (a million events: over a gigabyte).
    await tick;
  }
}
