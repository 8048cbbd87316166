/**
 * The server-side filter for a read or subscription of $all: only the owned
 * streams, narrowed further where the port's filter allows it. EventStoreDB
 * filters on stream names or on event types, not both, and by prefix (or
 * regex); the adapter checks every event it receives against the port's
 * filter and the ownership anyway, so the server's filter only has to let
 * through everything that may match: it cuts what crosses the network, not
 * what is delivered.
 */
import { eventTypeFilter, streamNameFilter, type Filter } from '@eventstore/db-client';
import type { EventFilter } from '../port.js';
import type { LogOwnership } from './ownership.js';

/** `undefined`: no owned event can match, so there is nothing to ask the server for. */
export function serverFilterFor(ownership: LogOwnership, filter: EventFilter = {}): Filter | undefined {
  const owned = ownership.streamPrefixes;
  const isOwnedName = (name: string) => owned.some((prefix) => name.startsWith(prefix));
  if (filter.streamId !== undefined) {
    return isOwnedName(filter.streamId) ? streamNameFilter({ prefixes: [filter.streamId] }) : undefined;
  }
  if (filter.types !== undefined && filter.types.length > 0) {
    // Usually narrower than a category; a type is a prefix of longer types too, checked exactly on receipt.
    const types = [...new Set(filter.types)].filter((type) => ownership.holdsType(type));
    return types.length > 0 ? eventTypeFilter({ prefixes: types }) : undefined;
  }
  const excluded = new Set((filter.excludeCategories ?? []).map((category) => `${category}-`));
  if (filter.category !== undefined) {
    const prefix = `${filter.category}-`;
    return isOwnedName(prefix) && !excluded.has(prefix) ? streamNameFilter({ prefixes: [prefix] }) : undefined;
  }
  const prefixes = owned.filter((prefix) => !excluded.has(prefix));
  return prefixes.length > 0 ? streamNameFilter({ prefixes }) : undefined;
}
