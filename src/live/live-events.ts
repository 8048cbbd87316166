/**
 * The read side's live sources, as the GraphQL layer (or any other front)
 * sees them: async iterables of domain values (jobs, experiments, status
 * changes, log lines, events), each joined to the feed before its backlog is
 * read, and each ended with where to resume when the feed ends it. What they
 * read (the feed, the store, the read models) stays behind this object.
 */
import { tailLog, type EventFields } from '../app/audit-log.js';
import type { JobStatus } from '../domain/job/events.js';
import type { EventFilter, RecordedEventHeader, RecordedEventPart } from '../store/port.js';
import type { ExperimentView } from '../../projections/experiments-queries.js';
import type { JobView, LogLineRow } from '../../projections/jobs-queries.js';
import { experimentJobChanges } from './experiment-job-changes.js';
import { experimentUpdates } from './experiment-updates.js';
import { jobLogBatches, jobLogLines } from './job-logs.js';
import { jobOfEvent } from './job-of-event.js';
import { jobStatusChanges, type StatusChange } from './job-status-changes.js';
import { jobUpdates } from './job-updates.js';
import type { LiveSources } from './sources.js';

export class LiveEvents {
  constructor(private readonly sources: LiveSources) {}

  /** The log position the read models (and so the feed) have reached; undefined while the log is empty. */
  get position(): string | undefined {
    return this.sources.position();
  }

  /** The audit log after `after` (exclusive), then live: no event missed or repeated. */
  events(filter: EventFilter | undefined, after: string | undefined, fields: EventFields) {
    const { store, feed, position, eventPageBytes } = this.sources;
    return tailLog(store, feed, position, filter, after, fields, eventPageBytes);
  }

  jobUpdates(jobId: string, afterRevision: number | null): AsyncGenerator<JobView> {
    return jobUpdates(this.sources, jobId, afterRevision);
  }

  jobStatusChanges(
    experimentId: string | null,
    statuses: readonly JobStatus[] | null,
    after: string | null,
  ): AsyncGenerator<StatusChange> {
    return jobStatusChanges(this.sources, experimentId, statuses, after);
  }

  jobLogLines(jobId: string, afterOffset: number): AsyncGenerator<LogLineRow> {
    return jobLogLines(this.sources, jobId, afterOffset);
  }

  jobLogBatches(jobId: string, afterOffset: number): AsyncGenerator<readonly LogLineRow[]> {
    return jobLogBatches(this.sources, jobId, afterOffset);
  }

  experimentUpdates(experimentId: string): AsyncGenerator<ExperimentView> {
    return experimentUpdates(this.sources, experimentId);
  }

  experimentJobChanges(experimentId: string, after: string | null): AsyncGenerator<RecordedEventPart> {
    return experimentJobChanges(this.sources, experimentId, after);
  }

  /** The job an event of the feed is on, read once for every subscriber sent it. */
  jobOfEvent(event: RecordedEventHeader): JobView | undefined {
    return jobOfEvent(this.sources, event);
  }

  /**
   * The ids of the keys revoked from now on, for whoever ends what a key holds open (its sockets, its
   * subscriptions). `close` stops it.
   */
  keyRevocations(): AsyncIterable<string> & { close(): void } {
    const revoked = this.sources.feed.subscribe((event) => event.type === 'ApiKeyRevoked');
    async function* keyIds(): AsyncGenerator<string> {
      for await (const event of revoked) yield (event.data as { keyId: string }).keyId;
    }
    return Object.assign(keyIds(), { close: () => revoked.close() });
  }
}

export type { StatusChange };
