/** `experimentUpdated`: the experiment after every change to it or to one of its jobs. */
import { closingWith } from '../../closing-iterator.js';
import { notFound } from '../../domain/errors.js';
import { experimentStreamId } from '../../domain/experiment/events.js';
import { JOB_STREAM_CATEGORY } from '../../domain/job/events.js';
import type { ExperimentView } from '../../../projections/experiments-queries.js';
import { jobIdOfStream } from '../../../projections/jobs-projection.js';
import { categoryOf } from '../../store/port.js';
import type { GraphQLContext } from '../context.js';

export function experimentUpdates({ trialog }: GraphQLContext, experimentId: string): AsyncGenerator<ExperimentView> {
  const streamId = experimentStreamId(experimentId);
  const live = trialog.feed.subscribe(
    (event) =>
      event.streamId === streamId ||
      (categoryOf(event.streamId) === JOB_STREAM_CATEGORY &&
        trialog.jobQueries.job(jobIdOfStream(event.streamId))?.experimentId === experimentId),
  );
  async function* updates(): AsyncGenerator<ExperimentView> {
    try {
      if (!trialog.experimentQueries.experiment(experimentId)) throw notFound(`experiment ${experimentId} not found`);
      for await (const _event of live) {
        const experiment = trialog.experimentQueries.experiment(experimentId);
        if (experiment) yield experiment;
      }
    } finally {
      live.close();
    }
  }
  return closingWith(live, updates());
}
