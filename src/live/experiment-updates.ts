/**
 * `experimentUpdated`: the experiment after every change to it or to one of
 * its jobs. Ended by the feed (too slow, shutting down), it ends as the job
 * feeds do: with the error's code, how to pick up (query the experiment again
 * and resubscribe: the subscription takes no position, every update being the
 * whole experiment), and the log position of the last change it delivered as
 * `resumeAfter`, to compare with `logPosition` (null before the first).
 */
import { closingWith } from '../closing-iterator.js';
import { notFound } from '../domain/errors.js';
import { experimentKind } from '../domain/experiment/kind.js';
import { resumableEnd } from '../live-feed.js';
import type { ExperimentView } from '../../projections/experiments-queries.js';
import type { LiveSources } from './sources.js';

export function experimentUpdates(sources: LiveSources, experimentId: string): AsyncGenerator<ExperimentView> {
  const streamId = experimentKind.streamId(experimentId);
  // Whose job changed is looked up from the job's indexed column, cached and once per event for
  // every subscriber: a hundred dashboards on one experiment never read another job's state.
  const live = sources.feed.subscribe(
    (event) => event.streamId === streamId || sources.jobExperiments.ofEvent(event) === experimentId,
  );
  async function* updates(): AsyncGenerator<ExperimentView> {
    let last: string | null = null;
    try {
      if (!sources.experiments.experiment(experimentId)) throw notFound(`experiment ${experimentId} not found`);
      for await (const event of live) {
        const experiment = sources.experiments.experiment(experimentId);
        if (!experiment) continue;
        last = event.position;
        yield experiment;
      }
    } catch (error) {
      throw resumableEnd(error, 'query the experiment again and resubscribe', { resumeAfter: last });
    } finally {
      live.close();
    }
  }
  return closingWith(live, updates());
}
