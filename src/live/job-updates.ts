/**
 * Every change to one job, as the job stands when it is delivered. With
 * `afterRevision` (the last revision the client saw), the job as it is now
 * comes first when it has moved past that revision: the feed is joined before
 * the job is read, so a change is either in that first answer or on the feed
 * (or both), and a client that resubscribes with its last revision misses
 * nothing. Ended by the feed, it says the revision to resume after.
 */
import { closingWith } from '../closing-iterator.js';
import { notFound } from '../domain/errors.js';
import { jobKind } from '../domain/job/kind.js';
import { resumableEnd } from '../live-feed.js';
import type { JobView } from '../../projections/jobs-queries.js';
import type { LiveSources } from './sources.js';

export function jobUpdates(
  sources: LiveSources,
  jobId: string,
  afterRevision: number | null = null,
): AsyncGenerator<JobView> {
  const streamId = jobKind.streamId(jobId);
  const live = sources.feed.subscribe((event) => event.streamId === streamId);
  async function* updates(): AsyncGenerator<JobView> {
    let last = afterRevision;
    try {
      const now = sources.jobs.job(jobId);
      if (!now) throw notFound(`job ${jobId} not found`);
      if (afterRevision !== null && now.revision > afterRevision) {
        last = now.revision;
        yield now;
      }
      for await (const _event of live) {
        const job = sources.jobs.job(jobId);
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
