/**
 * A job's log after an offset, then live lines: for `jobLogs` (one line at a
 * time, as the contract has it) and `jobLogBatches` (the lines of one append
 * together, so a subscriber costs one message per append, not per line).
 *
 * The live feed is joined first and lines are handed out strictly in offset
 * order, so the switch from the read model's backlog to the feed neither skips
 * nor repeats a line. Ended by the feed (too slow, shutting down), it ends
 * saying the offset to resume after.
 */
import { closingWith } from '../closing-iterator.js';
import { notFound } from '../domain/errors.js';
import { jobKind } from '../domain/job/kind.js';
import { parseOnce } from '../../projections/parse-once.js';
import { turnOfEventLoop } from '../event-loop.js';
import { resumableEnd } from '../live-feed.js';
import type { LogLineRow } from '../../projections/jobs-queries.js';
import type { LiveSources } from './sources.js';

/** Lines of the backlog read (and handed out as one batch) at a time. */
export const LOG_BACKLOG_PAGE = 500;

/** Batches of lines in offset order: a page of the backlog, then one batch per append. Never empty. */
export function jobLogBatches(
  sources: LiveSources,
  jobId: string,
  afterOffset: number,
): AsyncGenerator<readonly LogLineRow[]> {
  const streamId = jobKind.streamId(jobId);
  const live = sources.feed.subscribe((event) => event.streamId === streamId && event.type === 'JobLogAppended');
  async function* batches(): AsyncGenerator<readonly LogLineRow[]> {
    let last = afterOffset;
    try {
      if (!sources.jobs.job(jobId)) throw notFound(`job ${jobId} not found`);
      while (!live.closed) {
        await turnOfEventLoop(); // as the audit log's backlog: one long log must not hold up the server
        const page = sources.jobs.logLines(jobId, last, LOG_BACKLOG_PAGE);
        // The consumer may have asked for results ahead before it left: stop at once (LiveSubscription.closed).
        if (live.closed) return;
        if (page.length > 0) {
          last = page[page.length - 1]!.offset;
          yield page;
        }
        if (page.length < LOG_BACKLOG_PAGE) break;
      }
      for await (const recorded of live) {
        const event = parseOnce(recorded, jobKind.parse);
        if (event.type !== 'JobLogAppended') continue;
        const { firstOffset, lines: texts, stream } = event.data;
        const batch: LogLineRow[] = [];
        for (let i = Math.max(0, last + 1 - firstOffset); i < texts.length; i++)
          batch.push({ offset: firstOffset + i, stream, text: texts[i]!, timestamp: recorded.timestamp });
        if (batch.length === 0) continue;
        last = batch[batch.length - 1]!.offset;
        yield batch;
      }
    } catch (error) {
      throw resumableEnd(error, `resubscribe with afterOffset: ${last}`, { resumeAfterOffset: last });
    } finally {
      live.close();
    }
  }
  return closingWith(live, batches());
}

/**
 * The same lines one at a time. A batch is asked for only once every line of
 * the one before was handed out, so the offset an ending names is the last
 * line this consumer had.
 */
export function jobLogLines(sources: LiveSources, jobId: string, afterOffset: number): AsyncGenerator<LogLineRow> {
  const batches = jobLogBatches(sources, jobId, afterOffset);
  let left = false;
  async function* lines(): AsyncGenerator<LogLineRow> {
    try {
      for await (const batch of batches) {
        for (const line of batch) {
          // The consumer may have asked for lines ahead before it left: the rest of a batch is not handed out.
          if (left) return;
          yield line;
        }
      }
    } finally {
      await batches.return(undefined);
    }
  }
  const leave = () => {
    left = true;
    void batches.return(undefined);
  };
  return closingWith({ close: leave }, lines());
}
