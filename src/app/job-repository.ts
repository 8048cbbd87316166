/** Jobs as the generic repository sees them. */
import {
  jobEventSchemas,
  jobStreamId,
  parseJobEvent,
  type JobEvent,
  type NewJobEvent,
} from '../domain/job/events.js';
import { evolve, type JobState } from '../domain/job/state.js';
import { jobEventVersion } from '../domain/job/upcasters.js';
import type { EventStore } from '../store/port.js';
import { Repository } from './repository.js';

export type JobRepository = Repository<JobState, JobEvent, NewJobEvent>;

export function jobRepository(store: EventStore): JobRepository {
  return new Repository(store, {
    streamId: jobStreamId,
    parse: parseJobEvent,
    evolve,
    schemas: jobEventSchemas,
    schemaVersion: jobEventVersion,
  });
}
