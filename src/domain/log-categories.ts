/**
 * What Trialog writes to its log: each stream category (a stream id's part
 * before its first '-') and the event types its streams hold. The one list of
 * them, for a store shared with other applications (EventStoreDB), which must
 * read back only these.
 */
import { ACCESS_STREAM_ID, accessEventSchemas } from './access/keys.js';
import { EXPERIMENT_STREAM_CATEGORY, experimentEventSchemas } from './experiment/events.js';
import { JOB_STREAM_CATEGORY, jobEventSchemas } from './job/events.js';
import { LEASE_TOKEN_CATEGORY, leaseTokenEventSchemas } from './job/lease-token.js';
import {
  MAPPING_STREAM_CATEGORY,
  REGISTRY_STREAM_ID,
  TRAINING_SET_CATEGORY,
  mappingEventSchemas,
  registryEventSchemas,
  trainingSetEventSchemas,
} from './mapping/events.js';

const categoryOfId = (streamId: string) => streamId.slice(0, streamId.indexOf('-'));

/** Category -> the event types its streams hold (each stream holds one aggregate kind's events). */
export const LOG_CATEGORIES: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  (
    [
      [JOB_STREAM_CATEGORY, jobEventSchemas],
      [EXPERIMENT_STREAM_CATEGORY, experimentEventSchemas],
      [categoryOfId(ACCESS_STREAM_ID), accessEventSchemas],
      [LEASE_TOKEN_CATEGORY, leaseTokenEventSchemas],
      [categoryOfId(REGISTRY_STREAM_ID), registryEventSchemas],
      [MAPPING_STREAM_CATEGORY, mappingEventSchemas],
      [TRAINING_SET_CATEGORY, trainingSetEventSchemas],
    ] as const
  ).map(([category, schemas]) => [category, new Set(Object.keys(schemas))]),
);
