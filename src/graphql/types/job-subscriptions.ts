/**
 * The job subscriptions' event sources. All are fed by the live feed, which
 * the projection runner fills from the log after the read models include each
 * batch, so a payload read from the read model is never older than its event.
 * Each source is wrapped by `closingWith`, so a client that goes away frees
 * its listener at once, even when no further event would match.
 */
import { parseOnce } from '../../../projections/parse-once.js';
import { closingWith } from '../../closing-iterator.js';
import { notFound } from '../../domain/errors.js';
import { STATUS_CHANGING_EVENT_TYPES, statusChangeOf, type JobStatus } from '../../domain/job/events.js';
import { jobKind } from '../../domain/job/kind.js';
import type { LogLineRow } from '../../../projections/jobs-queries.js';
import { turnOfEventLoop } from '../../event-loop.js';
import { resumableEnd } from '../../live-feed.js';
import type { RecordedEvent, RecordedEventHeader } from '../../store/port.js';
import { tailLog, wholeEvents } from '../../app/audit-log.js';
import type { Trialog } from '../../trialog.js';
import type { GraphQLContext } from '../context.js';
import type { JobShape } from './job.js';

/**
 * Every change to one job, as the job stands when it is delivered. With `afterRevision` (the last
 * revision the client saw), the job as it is now comes first when it has moved past that revision:
 * the feed is joined before the job is read, so a change is either in that first answer or on the
 * feed (or both), and a client that resubscribes with its last revision misses nothing.
 */
export function jobUpdates(
  { trialog }: GraphQLContext,
  jobId: string,
  afterRevision: number | null = null,
): AsyncGenerator<JobShape> {
  const streamId = jobKind.streamId(jobId);
  const live = trialog.feed.subscribe((event) => event.streamId === streamId);
  async function* updates(): AsyncGenerator<JobShape> {
    let last = afterRevision;
    try {
      const now = trialog.jobQueries.job(jobId);
      if (!now) throw notFound(`job ${jobId} not found`);
      if (afterRevision !== null && now.revision > afterRevision) {
        last = now.revision;
        yield now;
      }
      for await (const _event of live) {
        const job = trialog.jobQueries.job(jobId);
        if (!job) continue;
        last = job.revision;
        yield job;
      }
    } catch (error) {
      throw resumableEnd(error, `resubscribe with afterRevision: ${last ?? 'null (query the job again)'}`, {
        resumeAfterRevision: last,
      });
    } finally {
      live.close();
    }
  }
  return closingWith(live, updates());
}

export interface StatusChange {
  /** The job as it is when the change is delivered (it may have moved on since). */
  job: JobShape;
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  position: string;
}

export function jobStatusChanges(
  { trialog }: GraphQLContext,
  experimentId: string | null,
  statuses: readonly JobStatus[] | null,
  after: string | null = null,
): AsyncGenerator<StatusChange> {
  if (after !== null) return jobStatusChangesAfter(trialog, experimentId, statuses, after);
  // Metric and log events never change a status, and another experiment's jobs are none of this
  // subscriber's business: neither is even queued for it. The experiment is looked up from the
  // job's indexed column, cached and once per event (not the job's state, not per subscriber).
  const live = trialog.feed.subscribe(
    (event) =>
      STATUS_CHANGING_EVENT_TYPES.has(event.type) &&
      jobKind.ownsStream(event.streamId) &&
      (experimentId === null || trialog.jobExperiments.ofEvent(event) === experimentId),
  );
  async function* changes(): AsyncGenerator<StatusChange> {
    let last: string | null = null;
    try {
      for await (const recorded of live) {
        const change = deliverableChange(trialog, recorded, statuses);
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

/**
 * The status change an event makes, with the job, when a subscriber narrowed to `statuses` is to be
 * sent it; worked out once per event for every subscriber, and the job read only for a change sent.
 */
function deliverableChange(
  trialog: GraphQLContext['trialog'],
  recorded: RecordedEvent,
  statuses: readonly JobStatus[] | null,
): StatusChange | null {
  const change = oncePerEvent(statusChangeByEvent, recorded, () => statusChangeOf(parseOnce(recorded, jobKind.parse)));
  if (!change) return null;
  if (statuses && statuses.length > 0 && !statuses.includes(change.to)) return null;
  const job = jobOfEvent(trialog, recorded);
  if (!job) return null;
  return { job, ...change, at: recorded.timestamp, position: recorded.position };
}

/**
 * The status changes after a position of the log, then live: the audit log's tail narrowed to the
 * status-changing job events, so a dashboard that lost its connection resumes from the last change
 * it saw with none missed or repeated. A subscriber too slow is told the position to resume after.
 */
function jobStatusChangesAfter(
  trialog: GraphQLContext['trialog'],
  experimentId: string | null,
  statuses: readonly JobStatus[] | null,
  after: string,
): AsyncGenerator<StatusChange> {
  const events = tailLog(
    trialog.store,
    trialog.feed,
    () => trialog.runner.position,
    { category: jobKind.category, types: [...STATUS_CHANGING_EVENT_TYPES] },
    after,
    wholeEvents,
    trialog.limits.eventPageBytes,
    // Narrowed before queueing: another experiment's events never wait in this subscriber's queue.
    experimentId === null ? undefined : (event) => trialog.jobExperiments.ofEvent(event) === experimentId,
  ) as AsyncGenerator<RecordedEvent>;
  async function* changes(): AsyncGenerator<StatusChange> {
    try {
      for await (const recorded of events) {
        const change = deliverableChange(trialog, recorded, statuses);
        if (change) yield change;
      }
    } finally {
      await events.return(undefined);
    }
  }
  // Closing the tail first ends a pending read, so a client that leaves frees its listener at once.
  return closingWith({ close: () => void events.return(undefined) }, changes());
}

/**
 * What every subscriber would work out from one event, worked out once: the
 * feed hands the same event object to all of them, and a thousand dashboards
 * must not parse it and read the job a thousand times.
 */
const statusChangeByEvent = new WeakMap<RecordedEventHeader, ReturnType<typeof statusChangeOf>>();
const jobByEvent = new WeakMap<RecordedEventHeader, JobShape | undefined>();
function oncePerEvent<T>(memo: WeakMap<RecordedEventHeader, T>, recorded: RecordedEventHeader, work: () => T): T {
  if (memo.has(recorded)) return memo.get(recorded)!;
  const value = work();
  memo.set(recorded, value);
  return value;
}

/**
 * The job whose stream the event is on, as the read model has it when first
 * asked (at or after the event): one read of one row for every subscriber
 * sent that event, whatever else the job's experiment holds.
 */
export function jobOfEvent(trialog: Trialog, recorded: RecordedEventHeader): JobShape | undefined {
  return oncePerEvent(jobByEvent, recorded, () => trialog.jobQueries.job(jobKind.idOf(recorded.streamId)));
}

/**
 * The log after an offset, then live lines. The live feed is joined first and
 * lines are handed out strictly in offset order, so the switch from the read
 * model's backlog to the feed neither skips nor repeats a line.
 */
export function jobLogTail(
  { trialog }: GraphQLContext,
  jobId: string,
  afterOffset: number,
): AsyncGenerator<LogLineRow> {
  const streamId = jobKind.streamId(jobId);
  const live = trialog.feed.subscribe((event) => event.streamId === streamId && event.type === 'JobLogAppended');
  async function* lines(): AsyncGenerator<LogLineRow> {
    let last = afterOffset;
    try {
      if (!trialog.jobQueries.job(jobId)) throw notFound(`job ${jobId} not found`);
      while (!live.closed) {
        await turnOfEventLoop(); // as the audit log's backlog: one long log must not hold up the server
        const page = trialog.jobQueries.logLines(jobId, last, 500);
        for (const line of page) {
          if (live.closed) return;
          last = line.offset;
          yield line;
        }
        if (page.length < 500) break;
      }
      for await (const recorded of live) {
        const event = parseOnce(recorded, jobKind.parse);
        if (event.type !== 'JobLogAppended') continue;
        const { firstOffset, lines: texts, stream } = event.data;
        for (let i = 0; i < texts.length; i++) {
          const offset = firstOffset + i;
          if (offset <= last) continue;
          last = offset;
          yield { offset, stream, text: texts[i]!, timestamp: recorded.timestamp };
        }
      }
    } catch (error) {
      throw resumableEnd(error, `resubscribe with afterOffset: ${last}`, { resumeAfterOffset: last });
    } finally {
      live.close();
    }
  }
  return closingWith(live, lines());
}
