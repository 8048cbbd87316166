/**
 * Which experiment a job belongs to, for the live filters of `experimentUpdated`,
 * `jobStatusChanged(experimentId)` and `experimentJobsChanged`. A job's experiment never changes, so
 * the answer is read once from an indexed column (never the job's state) and
 * kept in a cache bounded by count; and worked out once per event for every
 * subscriber, however many filter on it.
 */
import { jobKind } from '../domain/job/kind.js';
import type { RecordedEventHeader } from '../store/port.js';

/** Job ids and experiment ids are short: 10,000 entries are a few MiB at most. */
export const JOB_EXPERIMENT_CACHE_SIZE = 10_000;

/** `null`: not in an experiment; `undefined`: not a job event, or no such job in the read model. */
export type ExperimentOfJob = string | null | undefined;

export class JobExperiments {
  private readonly known = new Map<string, string | null>();
  private readonly byEvent = new WeakMap<RecordedEventHeader, ExperimentOfJob>();

  constructor(
    private readonly lookup: (jobId: string) => ExperimentOfJob,
    private readonly capacity = JOB_EXPERIMENT_CACHE_SIZE,
  ) {}

  /** The experiment of the job whose stream the event is on. */
  ofEvent(event: RecordedEventHeader): ExperimentOfJob {
    if (!jobKind.ownsStream(event.streamId)) return undefined;
    if (this.byEvent.has(event)) return this.byEvent.get(event);
    const experimentId = this.ofJob(jobKind.idOf(event.streamId));
    this.byEvent.set(event, experimentId);
    return experimentId;
  }

  ofJob(jobId: string): ExperimentOfJob {
    const cached = this.known.get(jobId);
    if (cached !== undefined) {
      // Least recently used goes first: a Map iterates in insertion order.
      this.known.delete(jobId);
      this.known.set(jobId, cached);
      return cached;
    }
    const experimentId = this.lookup(jobId);
    if (experimentId !== undefined) {
      this.known.set(jobId, experimentId);
      if (this.known.size > this.capacity) this.known.delete(this.known.keys().next().value!);
    }
    return experimentId;
  }

  get size(): number {
    return this.known.size;
  }
}
