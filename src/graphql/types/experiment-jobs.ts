/** The fields of `Experiment` that reach its jobs (kept apart: `Job` and `Experiment` refer to each other). */
import { builder } from '../builder.js';
import { notImplemented } from '../errors.js';
import { Experiment, JobCounts } from './experiment.js';
import { Job, JobConnection, JobStatus } from './job.js';

builder.objectFields(Experiment, (t) => ({
  jobs: t.field({
    type: JobConnection,
    args: {
      status: t.arg({ type: [JobStatus] }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
    },
    resolve: () => notImplemented('Experiment.jobs', 3),
  }),
  jobCounts: t.field({ type: JobCounts, resolve: () => notImplemented('Experiment.jobCounts', 3) }),
  bestJob: t.field({ type: Job, nullable: true, resolve: () => notImplemented('Experiment.bestJob', 3) }),
  leaderboard: t.field({
    type: [Job],
    description: 'Finished jobs ranked by objective value, best first.',
    args: { first: t.arg.int({ defaultValue: 10 }) },
    resolve: () => notImplemented('Experiment.leaderboard', 3),
  }),
}));
