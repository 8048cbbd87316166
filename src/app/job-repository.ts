/** Jobs as the generic repository sees them. */
import { jobEventSchemas, jobStreamId, parseJobEvent, type JobEvent, type NewJobEvent } from '../domain/job/events.js';
import { evolve, type JobState } from '../domain/job/state.js';
import { jobEventVersion } from '../domain/job/upcasters.js';
import type { EventStore } from '../store/port.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import { Repository } from './repository.js';

export type JobRepository = Repository<JobState, JobEvent, NewJobEvent>;

/**
 * Jobs load from the jobs read model's row when the cache has none: that row
 * is the job's stream folded by the same `evolve` up to its revision, so only
 * the events the read model has not applied yet are read (a chatty job's
 * thousands of log batches never are).
 */
export function jobRepository(
  store: EventStore,
  options: { queries?: JobQueries; cacheBytes?: number } = {},
): JobRepository {
  const { queries, cacheBytes } = options;
  return new Repository(
    store,
    {
      streamId: jobStreamId,
      parse: parseJobEvent,
      evolve,
      schemas: jobEventSchemas,
      schemaVersion: jobEventVersion,
    },
    {
      cacheBytes,
      snapshot: queries
        ? (id) => {
            const snapshot = queries.snapshot(id);
            return (
              snapshot && {
                state: snapshot.state,
                revision: BigInt(snapshot.revision),
                position: snapshot.position,
                lastEventId: snapshot.lastEventId,
              }
            );
          }
        : undefined,
    },
  );
}
