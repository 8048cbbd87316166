/**
 * What the live subscription sources read: the feed the projection runner
 * fills after the read models include each batch, the position it has
 * reached, the store (for a backlog read from the log), and the read models a
 * delivered value is read from. Built once in `src/trialog.ts`.
 */
import type { JobExperiments } from '../app/job-experiments.js';
import type { LiveFeed } from '../live-feed.js';
import type { EventStore } from '../store/port.js';
import type { ExperimentQueries } from '../../projections/experiments-queries.js';
import type { JobQueries } from '../../projections/jobs-queries.js';

export interface LiveSources {
  feed: LiveFeed;
  /** Where the feed (and the read models) stand: a backlog read from the log stops there. */
  position(): string | undefined;
  store: EventStore;
  jobs: Pick<JobQueries, 'job' | 'logLines'>;
  experiments: Pick<ExperimentQueries, 'experiment'>;
  /** Which experiment a job belongs to, cached: for the filters narrowed to one experiment. */
  jobExperiments: JobExperiments;
  /** Bytes of event data a backlog page read from the log may hold (TRIALOG_LIMIT_EVENT_PAGE_BYTES). */
  eventPageBytes: number;
}
