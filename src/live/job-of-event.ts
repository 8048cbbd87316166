/**
 * What every subscriber would work out from one event, worked out once: the
 * feed hands the same event object to all of them, and a thousand dashboards
 * must not parse it and read the job a thousand times.
 */
import { jobKind } from '../domain/job/kind.js';
import type { RecordedEventHeader } from '../store/port.js';
import type { JobView } from '../../projections/jobs-queries.js';
import type { LiveSources } from './sources.js';

export function oncePerEvent<T>(
  memo: WeakMap<RecordedEventHeader, T>,
  recorded: RecordedEventHeader,
  work: () => T,
): T {
  if (memo.has(recorded)) return memo.get(recorded)!;
  const value = work();
  memo.set(recorded, value);
  return value;
}

const jobByEvent = new WeakMap<RecordedEventHeader, JobView | undefined>();

/**
 * The job whose stream the event is on, as the read model has it when first
 * asked (at or after the event): one read of one row for every subscriber
 * sent that event, whatever else the job's experiment holds.
 */
export function jobOfEvent(sources: Pick<LiveSources, 'jobs'>, recorded: RecordedEventHeader): JobView | undefined {
  return oncePerEvent(jobByEvent, recorded, () => sources.jobs.job(jobKind.idOf(recorded.streamId)));
}
