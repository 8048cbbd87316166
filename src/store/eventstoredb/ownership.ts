/**
 * Which events of a shared EventStoreDB are the application's. Another
 * application's streams may sit in the same $all: reads and subscriptions ask
 * the server for the owned stream-name prefixes only, and check what comes
 * back, since a prefix is only a prefix (another application's `job-…`
 * stream passes `job-`): an event is ours when its stream is under an owned
 * prefix and its type is one its category holds.
 */
import { LOG_CATEGORIES } from '../../domain/log-categories.js';
import { categoryOf } from '../port.js';

export interface LogOwnership {
  /** Stream-name prefixes the server is asked for. */
  readonly streamPrefixes: readonly string[];
  /** Whether an event the server let through is the application's. */
  owns(event: { streamId: string; type: string }): boolean;
  /** Whether any owned stream may hold events of this type (a type filter asks the server only for those). */
  holdsType(type: string): boolean;
}

/** Owned streams: `<category>-…` for each category, each holding only its own event types. */
export function ownershipOfCategories(categories: ReadonlyMap<string, ReadonlySet<string>>): LogOwnership {
  const allTypes = new Set([...categories.values()].flatMap((types) => [...types]));
  return {
    streamPrefixes: [...categories.keys()].map((category) => `${category}-`),
    owns: (event) =>
      categories.get(categoryOf(event.streamId))?.has(event.type) === true && event.streamId.includes('-'),
    holdsType: (type) => allTypes.has(type),
  };
}

/**
 * Every stream under the given prefixes, whatever its event types (the
 * server's own `$` types aside): for the store contract suite, whose streams
 * and types are made up per test.
 */
export function ownershipOfPrefixes(prefixes: readonly string[]): LogOwnership {
  return {
    streamPrefixes: prefixes,
    owns: (event) => !event.type.startsWith('$') && prefixes.some((prefix) => event.streamId.startsWith(prefix)),
    holdsType: (type) => !type.startsWith('$'),
  };
}

/** Trialog's own categories and event types (src/domain/log-categories.ts). */
export const trialogOwnership: LogOwnership = ownershipOfCategories(LOG_CATEGORIES);
