/**
 * Status transitions of any job, optionally narrowed to one experiment and to
 * some statuses; with `after` (a position), those after it first, then live:
 * none missed or repeated. Ended by the feed, it says the position to resume
 * after.
 */
import { closingWith } from '../closing-iterator.js';
import { STATUS_CHANGING_EVENT_TYPES, statusChangeOf, type JobStatus } from '../domain/job/events.js';
import { tailLog, wholeEvents } from '../app/audit-log.js';
import { resumableEnd } from '../live-feed.js';
import { jobKind } from '../domain/job/kind.js';
import type { RecordedEvent, RecordedEventHeader } from '../store/port.js';
import { parseOnce } from '../../projections/parse-once.js';
import type { JobView } from '../../projections/jobs-queries.js';
import { jobOfEvent, oncePerEvent } from './job-of-event.js';
import type { LiveSources } from './sources.js';

export interface StatusChange {
  /** The job as it is when the change is delivered (it may have moved on since). */
  job: JobView;
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  position: string;
}

export function jobStatusChanges(
  sources: LiveSources,
  experimentId: string | null,
  statuses: readonly JobStatus[] | null,
  after: string | null = null,
): AsyncGenerator<StatusChange> {
  if (after !== null) return jobStatusChangesAfter(sources, experimentId, statuses, after);
  // Metric and log events never change a status, and another experiment's jobs are none of this
  // subscriber's business: neither is even queued for it. The experiment is looked up from the
  // job's indexed column, cached and once per event (not the job's state, not per subscriber).
  const live = sources.feed.subscribe(
    (event) =>
      STATUS_CHANGING_EVENT_TYPES.has(event.type) &&
      jobKind.ownsStream(event.streamId) &&
      (experimentId === null || sources.jobExperiments.ofEvent(event) === experimentId),
  );
  async function* changes(): AsyncGenerator<StatusChange> {
    let last: string | null = null;
    try {
      for await (const recorded of live) {
        const change = deliverableChange(sources, recorded, statuses);
        last = recorded.position;
        if (change) yield change;
      }
    } catch (error) {
      const how = last === null ? 'query the jobs again and resubscribe' : `resubscribe with after: "${last}"`;
      throw resumableEnd(error, how, { resumeAfter: last });
    } finally {
      live.close();
    }
  }
  return closingWith(live, changes());
}

const statusChangeByEvent = new WeakMap<RecordedEventHeader, ReturnType<typeof statusChangeOf>>();

/**
 * The status change an event makes, with the job, when a subscriber narrowed to `statuses` is to be
 * sent it; worked out once per event for every subscriber, and the job read only for a change sent.
 */
function deliverableChange(
  sources: LiveSources,
  recorded: RecordedEvent,
  statuses: readonly JobStatus[] | null,
): StatusChange | null {
  const change = oncePerEvent(statusChangeByEvent, recorded, () => statusChangeOf(parseOnce(recorded, jobKind.parse)));
  if (!change) return null;
  if (statuses && statuses.length > 0 && !statuses.includes(change.to)) return null;
  const job = jobOfEvent(sources, recorded);
  if (!job) return null;
  return { job, ...change, at: recorded.timestamp, position: recorded.position };
}

/**
 * The status changes after a position of the log, then live: the audit log's tail narrowed to the
 * status-changing job events, so a dashboard that lost its connection resumes from the last change
 * it saw with none missed or repeated. A subscriber too slow is told the position to resume after.
 */
function jobStatusChangesAfter(
  sources: LiveSources,
  experimentId: string | null,
  statuses: readonly JobStatus[] | null,
  after: string,
): AsyncGenerator<StatusChange> {
  const events = tailLog(
    sources.store,
    sources.feed,
    sources.position,
    { category: jobKind.category, types: [...STATUS_CHANGING_EVENT_TYPES] },
    after,
    wholeEvents,
    sources.eventPageBytes,
    // Narrowed before queueing: another experiment's events never wait in this subscriber's queue.
    experimentId === null ? undefined : (event) => sources.jobExperiments.ofEvent(event) === experimentId,
  ) as AsyncGenerator<RecordedEvent>;
  async function* changes(): AsyncGenerator<StatusChange> {
    try {
      for await (const recorded of events) {
        const change = deliverableChange(sources, recorded, statuses);
        if (change) yield change;
      }
    } finally {
      await events.return(undefined);
    }
  }
  // Closing the tail first ends a pending read, so a client that leaves frees its listener at once.
  return closingWith({ close: () => void events.return(undefined) }, changes());
}
