/** Jobs as an aggregate kind: streams `job-<jobId>`, folded by `evolveJob`, checked by `trialog verify` for legal transitions. */
import { defineKind } from '../aggregate-kind.js';
import { jobEventSchemas } from './events.js';
import { evolveJob, type JobState } from './state.js';
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
  evolve: evolveJob,
  illegalEvent: illegalTransition,
});
