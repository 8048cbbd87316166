/** The fields of `Experiment` that reach its jobs (kept apart: `Job` and `Experiment` refer to each other). */
import { boundedFilterList } from '../../app/filter-lists.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { pageSize, positionCursor, toConnection } from '../pagination.js';
import { Experiment, JobCounts, type ExperimentShape } from './experiment.js';
import { Job, JobConnection, JobStatus, type JobShape } from './job.js';
import { withCursorText } from './job-order.js';

builder.objectFields(Experiment, (t) => ({
  jobs: t.field({
    type: JobConnection,
    args: {
      status: t.arg({ type: [JobStatus] }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
    },
    resolve: (e, args, { trialog, limits }) => {
      const after = positionCursor(trialog.history, args.after);
      const filter = { experimentId: e.id, status: boundedFilterList(limits, 'status', args.status) };
      const page = trialog.jobQueries.jobs(
        filter,
        pageSize(limits, args.first, 50),
        after === undefined ? undefined : { position: after },
      );
      return { ...toConnection(withCursorText(page), page.hasNextPage, args.after), totalCount: page.totalCount };
    },
  }),
  jobCounts: t.field({
    type: JobCounts,
    resolve: (e, _args, { trialog }) => trialog.experimentQueries.jobCounts(e.id),
  }),
  bestJob: t.field({ type: Job, nullable: true, resolve: (e, _args, ctx) => ranked(ctx, e, 1)[0] ?? null }),
  leaderboard: t.field({
    type: [Job],
    description: 'Finished jobs ranked by objective value, best first.',
    args: { first: t.arg.int({ defaultValue: 10 }) },
    resolve: (e, args, ctx) => ranked(ctx, e, pageSize(ctx.limits, args.first, 10)),
  }),
}));

/** SUCCEEDED jobs by objective value, best first; none without an objective. */
function ranked(ctx: GraphQLContext, experiment: ExperimentShape, first: number): JobShape[] {
  const objective = experiment.settings.objective;
  if (!objective) return [];
  return ctx.trialog.experimentQueries
    .leaderboard(experiment.id, objective.direction, first)
    .map((id) => ctx.trialog.jobQueries.job(id))
    .filter((job): job is JobShape => job !== undefined);
}
