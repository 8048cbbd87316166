/**
 * Time travel: a job as it stood at a revision of its stream or at a moment,
 * rebuilt by folding the stream itself, never from the read model. The past
 * job's metrics and logs are the ones reported up to that point.
 */
import { jobStreamId, parseJobEvent, type JobEvent } from '../domain/job/events.js';
import { evolve, type MaybeJob } from '../domain/job/state.js';
import type { JobView, LogLineRow, MetricPointRow } from '../../projections/jobs-queries.js';
import type { EventStore } from '../store/port.js';
import { badInput } from '../domain/errors.js';
import { upTo } from './time-travel.js';

export interface PastJob {
  view: JobView;
  metrics: { name: string; points: MetricPointRow[] }[];
  logLines: LogLineRow[];
}

export async function jobAt(
  store: EventStore,
  jobId: string,
  at: { revision?: number | null; time?: Date | null },
): Promise<PastJob | undefined> {
  if (at.revision !== undefined && at.revision !== null && at.revision < 0) {
    throw badInput('revision must be >= 0');
  }
  const recorded = await store.readStream(jobStreamId(jobId));
  const included = upTo(recorded, at);
  if (included.length === 0) return undefined;
  let state: MaybeJob;
  const series = new Map<string, Map<number, MetricPointRow>>();
  const logLines: LogLineRow[] = [];
  for (const record of included) {
    const event = parseJobEvent(record);
    state = evolve(state, event);
    collect(event, series, logLines);
  }
  const revision = Number(included[included.length - 1]!.revision);
  return {
    // The objective value is the read model's judgement (it needs the experiment); the past view has none.
    view: { ...state!, revision, asOfRevision: revision, objectiveValue: null },
    metrics: [...series].map(([name, points]) => ({
      name,
      points: [...points.values()].sort((a, b) => a.step - b.step),
    })),
    logLines,
  };
}

function collect(event: JobEvent, series: Map<string, Map<number, MetricPointRow>>, logLines: LogLineRow[]): void {
  if (event.type === 'JobMetricsReported') {
    for (const { name, ...point } of event.data.points) {
      let points = series.get(name);
      if (!points) series.set(name, (points = new Map()));
      if (!points.has(point.step)) points.set(point.step, point); // the first value of a step stands
    }
  } else if (event.type === 'JobLogAppended') {
    event.data.lines.forEach((text, i) =>
      logLines.push({ offset: event.data.firstOffset + i, stream: event.data.stream, text, timestamp: event.timestamp }),
    );
  }
}
