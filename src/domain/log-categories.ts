/**
 * What Trialog writes to its log: each stream category (a stream id's part
 * before its first '-') and the event types its streams hold, as the kinds
 * registry (./kinds.ts) lists them. For a store shared with other applications
 * (EventStoreDB), which must read back only these.
 */
import { AGGREGATE_KINDS } from './kinds.js';

/** Category -> the event types its streams hold (each stream holds one aggregate kind's events). */
export const LOG_CATEGORIES: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  AGGREGATE_KINDS.map((kind) => [kind.category, new Set<string>(kind.eventTypes)]),
);
