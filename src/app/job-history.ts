/**
 * Time travel: a job as it stood at a revision of its stream or at a moment,
 * rebuilt by folding the stream itself (a page at a time), never from the
 * read model. Its metrics are the read model's points stored at or before
 * that revision (`view.asOfRevision`; each point records the revision that
 * stored it); its log is the read model's lines below the offset the log had
 * reached then (offsets are contiguous and lines never change). Both are read
 * a page at a time like the live job's, so a chatty job costs one page.
 */
import type { JobEvent } from '../domain/job/events.js';
import { jobKind } from '../domain/job/kind.js';
import type { JobState } from '../domain/job/state.js';
import type { JobView } from '../../projections/jobs-queries.js';
import type { EventStore } from '../store/port.js';
import { badInput } from '../domain/errors.js';
import { foldAt } from './time-travel.js';

export interface PastJob {
  view: JobView;
}

export async function jobAt(
  store: EventStore,
  jobId: string,
  at: { revision?: number | null; time?: Date | null },
): Promise<PastJob | undefined> {
  if (at.revision !== undefined && at.revision !== null && at.revision < 0) {
    throw badInput('revision must be >= 0');
  }
  const folded = await foldAt<JobEvent, JobState>(store, jobKind, jobId, at);
  if (!folded) return undefined;
  const { state, revision } = folded;
  return {
    // The objective value is the read model's judgement (it needs the experiment); the past view has none.
    view: {
      ...state,
      trainingData: state.trainingData ?? null,
      result: state.result ?? null,
      artifacts: state.artifacts ?? [],
      revision,
      asOfRevision: revision,
      objectiveValue: null,
    },
  };
}
