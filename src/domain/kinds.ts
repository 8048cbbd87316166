/**
 * Every kind of aggregate Trialog writes to its log, registered once. Whatever
 * walks the log asks this list: which stream belongs to which kind, which kind
 * an event type is of, which categories and types are Trialog's (for a store
 * shared with other applications). Adding an aggregate is one entry here.
 */
import { keysKind } from './access/keys.js';
import type { AggregateKind } from './aggregate-kind.js';
import { categoryOfStream } from './aggregate-kind.js';
import { experimentKind } from './experiment/kind.js';
import { jobKind } from './job/kind.js';
import { leaseTokenKind } from './job/lease-token.js';
import { mappingKind, registryKind, trainingSetKind } from './mapping/kinds.js';

/** An aggregate kind of any schemas and state, as the generic code that lists them sees it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAggregateKind = AggregateKind<any, any>;

export const AGGREGATE_KINDS: readonly AnyAggregateKind[] = [
  jobKind,
  experimentKind,
  keysKind,
  leaseTokenKind,
  registryKind,
  mappingKind,
  trainingSetKind,
];

const byCategory = new Map(AGGREGATE_KINDS.map((kind) => [kind.category, kind]));
const byEventType = new Map(AGGREGATE_KINDS.flatMap((kind) => kind.eventTypes.map((type) => [type, kind] as const)));
if (byCategory.size !== AGGREGATE_KINDS.length) throw new Error('two aggregate kinds share a stream category');
if (byEventType.size !== AGGREGATE_KINDS.reduce((n, kind) => n + kind.eventTypes.length, 0)) {
  throw new Error('two aggregate kinds share an event type');
}

/** The kind whose stream this is, or undefined for a stream of no known kind. */
export function kindOfStream(streamId: string): AnyAggregateKind | undefined {
  const kind = byCategory.get(categoryOfStream(streamId));
  return kind?.ownsStream(streamId) ? kind : undefined;
}

/** The kind an event type belongs to (event types are unique across kinds). */
export function kindOfEventType(type: string): AnyAggregateKind | undefined {
  return byEventType.get(type);
}
