/**
 * Loads a job's state by folding its stream, and appends its new events with
 * the revision it was loaded at, so a concurrent change is a conflict rather
 * than a lost update. Folded states are cached with their revision: a load
 * reads only the events appended since, from whichever process.
 */
import {
  JOB_EVENT_SCHEMA_VERSION,
  jobEventSchemas,
  jobStreamId,
  parseJobEvent,
  type NewJobEvent,
} from '../domain/job/events.js';
import { foldJob, type MaybeJob } from '../domain/job/state.js';
import type { AppendResult, EventStore } from '../store/port.js';
import { toNewEvents, type CommandContext } from './command-context.js';

export interface LoadedJob {
  state: MaybeJob;
  /** Revision of the stream's last event; undefined for no stream. */
  revision: bigint | undefined;
  /** Global position of the stream's last event. */
  position: string | undefined;
}

const CACHE_SIZE = 10_000;

export class JobRepository {
  private readonly cache = new Map<string, LoadedJob>();

  constructor(private readonly store: EventStore) {}

  async load(jobId: string): Promise<LoadedJob> {
    const cached = this.cache.get(jobId);
    const fromRevision = cached?.revision === undefined ? 0n : cached.revision + 1n;
    const recorded = await this.store.readStream(jobStreamId(jobId), { fromRevision });
    if (recorded.length === 0) return cached ?? { state: undefined, revision: undefined, position: undefined };
    const loaded: LoadedJob = {
      state: foldJob(recorded.map(parseJobEvent), cached?.state),
      revision: recorded[recorded.length - 1]!.revision,
      position: recorded[recorded.length - 1]!.position,
    };
    this.remember(jobId, loaded);
    return loaded;
  }

  append(
    jobId: string,
    events: readonly NewJobEvent[],
    loadedRevision: bigint | undefined,
    context: CommandContext,
  ): Promise<AppendResult> {
    // Checked on the way in as well as on the way out: a malformed event never reaches the log.
    const checked = events.map((event) => ({ type: event.type, data: jobEventSchemas[event.type].parse(event.data) }));
    return this.store.appendToStream(jobStreamId(jobId), toNewEvents(checked, context, JOB_EVENT_SCHEMA_VERSION), {
      expectedRevision: loadedRevision ?? 'no_stream',
    });
  }

  private remember(jobId: string, loaded: LoadedJob): void {
    // Map keeps insertion order: re-inserting makes this the newest entry.
    this.cache.delete(jobId);
    this.cache.set(jobId, loaded);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}
