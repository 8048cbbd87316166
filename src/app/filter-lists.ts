/**
 * Lists in a read's filter (event types, job statuses) become bound parameters
 * of one SQL statement, and SQLite takes at most 32,766 of those: a longer list
 * was an INTERNAL_SERVER_ERROR. Each list is deduplicated and then bounded by
 * an explicit limit, TOO_LARGE past it.
 */
import { tooLarge } from '../domain/errors.js';
import type { Limits } from '../limits.js';

export function boundedFilterList<T>(
  limits: Pick<Limits, 'filterListItems'>,
  name: string,
  list: readonly T[] | null | undefined,
): T[] | undefined {
  if (list === null || list === undefined) return undefined;
  const distinct = [...new Set(list)];
  if (distinct.length > limits.filterListItems) {
    throw tooLarge(`${name} has ${distinct.length} different items; at most ${limits.filterListItems}`);
  }
  return distinct;
}
