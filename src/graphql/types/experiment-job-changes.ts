/**
 * `experimentJobsChanged`: every event of every job of one experiment, from a
 * position (exclusive), then live, for a page that shows the experiment's
 * trials and keeps them current one change at a time.
 *
 * It is the audit log's tail (`tailLog`, as the `events` subscription) with
 * one more filter, so it has the same guarantees: the feed is joined before
 * the backlog is read, no event is missed or repeated across a resume, and a
 * subscriber that falls behind is ended with TOO_LARGE and where to resume.
 *
 * Whether an event's job is in the experiment: the store can filter on a
 * stream's category but not on an experiment (only `JobCreated` names it, and
 * a stream filter listing 10,000 jobs would be a query as large as the
 * experiment). So the log is filtered to job streams by the store, and each
 * job event is then judged by its job's experiment, which never changes: read
 * from the jobs read model's indexed column, kept in `JobExperiments`' cache
 * bounded by count, and worked out once per live event for every subscriber.
 * The read model includes every event the feed publishes (the runner publishes
 * after applying) and every event of a backlog (it stops where the feed got
 * to), so the lookup always finds the job. Both come from the log, so a change
 * made through another server process on the same store is seen here too.
 *
 * One change costs one indexed lookup (usually a cache hit) and, when `job` is
 * selected, one job row: never a read of the experiment's other jobs.
 */
import { tailLog } from '../../app/audit-log.js';
import { notFound } from '../../domain/errors.js';
import { jobKind } from '../../domain/job/kind.js';
import type { RecordedEventPart } from '../../store/port.js';
import { builder } from '../builder.js';
import { Job } from './job.js';
import { jobOfEvent } from './job-subscriptions.js';

const ExperimentJobChange = builder.objectRef<RecordedEventPart>('ExperimentJobChange').implement({
  description: "One event of one of an experiment's jobs.",
  fields: (t) => ({
    position: t.exposeString('position', {
      description: "The event's position in the log: resubscribe with `after` set to it.",
    }),
    type: t.exposeString('type', {
      description: 'The event type: JobCreated, JobClaimed, JobMetricsReported, JobCompleted…',
    }),
    job: t.field({
      type: Job,
      description:
        'The job as the read model has it when the change is delivered (it may have moved on since the event).',
      resolve: (event, _args, { trialog }) => {
        const job = jobOfEvent(trialog, event);
        // Jobs are never removed from the read model, which includes every event sent: this cannot happen.
        if (!job) throw notFound(`the job of event ${event.id} is not in the read model`);
        return job;
      },
    }),
  }),
});

/** The events' headers are all a change needs: their data (log lines, metric batches) is never read. */
const HEADERS_ONLY = { data: false, metadata: false };

builder.subscriptionField('experimentJobsChanged', (t) =>
  t.field({
    type: ExperimentJobChange,
    description:
      "Every event of every job of one experiment (created, claimed, metrics, logs, heartbeats, endings…), after `after` (exclusive), then live: no event missed or repeated across a resume. Without `after`, from now on (not from the log's start): to follow a page of the experiment's jobs with no gap, read `logPosition` before the first page and subscribe `after` it; after a lost connection, resume after the last change's `position`.",
    args: { experimentId: t.arg.id({ required: true }), after: t.arg.string() },
    subscribe: (_root, { experimentId, after }, { trialog }) => {
      // Before the feed is joined: an unknown experiment leaves no listener behind.
      if (!trialog.experimentQueries.experiment(experimentId)) throw notFound(`experiment ${experimentId} not found`);
      const ofThisExperiment = (event: RecordedEventPart) => trialog.jobExperiments.ofEvent(event) === experimentId;
      return tailLog(
        trialog.store,
        trialog.feed,
        () => trialog.runner.position,
        { category: jobKind.category },
        // "From now" is where the feed stands: read synchronously with joining it, so nothing falls between.
        after ?? trialog.runner.position,
        HEADERS_ONLY,
        trialog.limits.eventPageBytes, // no data is read: the budget never binds
        ofThisExperiment,
      );
    },
    resolve: (event) => event,
  }),
);
