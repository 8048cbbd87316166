/** Jobs as the generic repository sees them. */
import type { JobEvent, NewJobEvent } from '../domain/job/events.js';
import { jobKind } from '../domain/job/kind.js';
import type { JobState } from '../domain/job/state.js';
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
  return new Repository(store, jobKind, {
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
  });
}
