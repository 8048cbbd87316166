/**
 * Time travel: a job as it stood at a revision of its stream or at a moment,
 * rebuilt by folding the stream itself (a page at a time), never from the
 * read model. The past job's metrics are the ones reported up to that point;
 * its log is the read model's lines below the offset the log had reached
 * then (offsets are contiguous and lines never change), read a page at a
 * time like the live job's, so a job with gigabytes of logs costs one page.
 */
import { jobStreamId, parseJobEvent, type JobEvent } from '../domain/job/events.js';
import { evolve, type JobState } from '../domain/job/state.js';
import type { JobView, MetricPointRow } from '../../projections/jobs-queries.js';
import type { EventStore } from '../store/port.js';
import { badInput } from '../domain/errors.js';
import { foldAt } from './time-travel.js';

export interface PastJob {
  view: JobView;
  metrics: { name: string; points: MetricPointRow[] }[];
}

export async function jobAt(
  store: EventStore,
  jobId: string,
  at: { revision?: number | null; time?: Date | null },
): Promise<PastJob | undefined> {
  if (at.revision !== undefined && at.revision !== null && at.revision < 0) {
    throw badInput('revision must be >= 0');
  }
  const series = new Map<string, Map<number, MetricPointRow>>();
  const folded = await foldAt<JobEvent, JobState>(store, jobStreamId(jobId), at, parseJobEvent, (state, event) => {
    collect(event, series);
    return evolve(state, event);
  });
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
    metrics: [...series].map(([name, points]) => ({
      name,
      points: [...points.values()].sort((a, b) => a.step - b.step),
    })),
  };
}

function collect(event: JobEvent, series: Map<string, Map<number, MetricPointRow>>): void {
  if (event.type === 'JobMetricsReported') {
    for (const { name, ...point } of event.data.points) {
      let points = series.get(name);
      if (!points) series.set(name, (points = new Map()));
      if (!points.has(point.step)) points.set(point.step, point); // the first value of a step stands
    }
  }
}
