/**
 * `experimentJobsChanged`: every event of every job of one experiment, after a
 * position, then live. The source is the read side's (src/live/experiment-job-changes.ts,
 * which says how it is narrowed and what one change costs); here each event is
 * mapped to its fields.
 */
import { notFound } from '../../domain/errors.js';
import type { RecordedEventPart } from '../../store/port.js';
import { builder } from '../builder.js';
import { Job } from './job.js';

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
        const job = trialog.live.jobOfEvent(event);
        // Jobs are never removed from the read model, which includes every event sent: this cannot happen.
        if (!job) throw notFound(`the job of event ${event.id} is not in the read model`);
        return job;
      },
    }),
  }),
});

builder.subscriptionField('experimentJobsChanged', (t) =>
  t.field({
    type: ExperimentJobChange,
    description:
      "Every event of every job of one experiment (created, claimed, metrics, logs, heartbeats, endings…), after `after` (exclusive), then live: no event missed or repeated across a resume. Without `after`, from now on (not from the log's start): to follow a page of the experiment's jobs with no gap, read `logPosition` before the first page and subscribe `after` it; after a lost connection, resume after the last change's `position`.",
    args: { experimentId: t.arg.id({ required: true }), after: t.arg.string() },
    subscribe: (_root, { experimentId, after }, { trialog }) =>
      trialog.live.experimentJobChanges(experimentId, after ?? null),
    resolve: (event) => event,
  }),
);
