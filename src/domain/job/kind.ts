/** Jobs as an aggregate kind: streams `job-<jobId>`, folded by `evolve`, checked by `trialog verify` for legal transitions. */
import { defineKind } from '../aggregate-kind.js';
import { jobEventSchemas } from './events.js';
import { evolve, type JobState } from './state.js';
import { illegalTransition } from './transitions.js';
import { JOB_EVENT_VERSIONS, JOB_UPCASTERS } from './upcasters.js';

export const jobKind = defineKind<typeof jobEventSchemas, JobState>({
  name: 'job',
  article: 'a job',
  category: 'job',
  schemas: jobEventSchemas,
  versions: JOB_EVENT_VERSIONS,
  upcasters: JOB_UPCASTERS,
  initialState: undefined,
  evolve,
  illegalEvent: illegalTransition,
});

/** Parses a stored job event, upcasting an older shape (metadata.schemaVersion) to the current one first. */
export const parseJobEvent = jobKind.parse;
