/**
 * Reads of the metric read model (see ./metric-series.ts), each bounded by
 * what it asks for, never by how many points a series holds: the list of a
 * job's series and their last points come from the series index; points come
 * a page at a time by step; buckets are aggregated one at a time, so memory
 * is O(buckets). Buckets of the series now read the block summaries (see
 * ./block-cover.ts): a bucket costs at most 2 x 31 points, 2 x 31 small blocks,
 * one large block per 1,024 steps and one seek for its last point (a bucket
 * under about 500 steps, where that saves little, reads its points), so time
 * is O(buckets), not one scan of the range.
 *
 * The same reads serve a job as it stood at a past revision (`jobAt`): the
 * points at or below that revision are the series as they were then. Blocks
 * summarise the points now, not at a past revision, so there buckets (and the
 * summary) scan the points of the range: O(points in the range), as before.
 * The scan is also the reference the block reads are tested against.
 */
import type { Database } from 'better-sqlite3';
import { BLOCK_LEVELS, coverOf, rowsOf, type Cover, type Span } from './block-cover.js';
import type { MetricPointRow } from './jobs-queries.js';

/** A step range, both ends included; an absent end is open. */
export interface StepRange {
  fromStep?: number | null;
  toStep?: number | null;
}

export interface SeriesSummary {
  count: number;
  firstStep: number;
  lastStep: number;
  min: number;
  max: number;
  last: MetricPointRow;
}

/** One series of one job, now (`upToRevision` null) or as it stood at a revision of the job's stream. */
export interface MetricSeriesRef {
  jobId: string;
  name: string;
  upToRevision: number | null;
  /** The series index row: the summary of the series now (not of a past revision). */
  indexed: SeriesSummary;
}

export interface MetricBucket {
  /** The steps the bucket covers (equal widths from the first step of the range). */
  fromStep: number;
  toStep: number;
  count: number;
  min: number;
  max: number;
  /** The point at the bucket's last step. */
  last: MetricPointRow;
}

interface IndexRow {
  name: string;
  count: number;
  first_step: number;
  last_step: number;
  last_value: number;
  last_timestamp: string;
  min_value: number;
  max_value: number;
}

const EVERY_REVISION = Number.MAX_SAFE_INTEGER;
const LOWEST = Number.MIN_SAFE_INTEGER;
const HIGHEST = Number.MAX_SAFE_INTEGER;

interface SliceParams {
  jobId: string;
  name: string;
  from: number;
  to: number;
  upTo: number;
}

interface Aggregate {
  count: number;
  min: number | null;
  max: number | null;
}

/** The named parameters of a cover: `points0From`, `points0To`, ..., `blocks10_1To` (see `coverQuery`). */
type CoverParams = Record<string, number | string>;

/**
 * Count, min and max of the points of a cover, in one statement of fixed
 * shape: each piece is a range of a primary key (an empty one reads nothing).
 */
function coverQuery(): string {
  const series = 'job_id = @jobId AND name = @name';
  const pieces: string[] = [];
  for (const end of [0, 1]) {
    pieces.push(
      `SELECT count(*) AS n, min(value) AS lo, max(value) AS hi FROM metric_points
       WHERE ${series} AND step BETWEEN @points${end}From AND @points${end}To`,
    );
    for (const level of BLOCK_LEVELS) {
      pieces.push(
        `SELECT sum(count), min(min_value), max(max_value) FROM metric_blocks
         WHERE ${series} AND level = ${level} AND block BETWEEN @blocks${level}_${end}From AND @blocks${level}_${end}To`,
      );
    }
  }
  return `SELECT coalesce(sum(n), 0) AS count, min(lo) AS min, max(hi) AS max FROM (${pieces.join(' UNION ALL ')})`;
}

function coverParams(jobId: string, name: string, cover: Cover): CoverParams {
  const params: CoverParams = { jobId, name };
  const put = (prefix: string, spans: readonly [Span, Span]) =>
    spans.forEach((span, end) => {
      params[`${prefix}${end}From`] = span.from;
      params[`${prefix}${end}To`] = span.to;
    });
  put('points', cover.points);
  for (const level of BLOCK_LEVELS) put(`blocks${level}_`, cover.blocks[level]);
  return params;
}

export class MetricQueries {
  private readonly seriesOfJob;
  private readonly pointsAscending;
  private readonly lastIn;
  private readonly firstIn;
  private readonly aggregateIn;
  private readonly aggregateOfCover;

  constructor(db: Database) {
    // `first_revision <= @upTo`: a series that had no point yet at a past revision did not exist then.
    this.seriesOfJob = db.prepare<{ jobId: string; upTo: number; names: string | null }, IndexRow>(
      `SELECT name, count, first_step, last_step, last_value, last_timestamp, min_value, max_value
       FROM metric_series
       WHERE job_id = @jobId AND first_revision <= @upTo
         AND (@names IS NULL OR name IN (SELECT value FROM json_each(@names)))
       ORDER BY name`,
    );
    const slice = 'job_id = @jobId AND name = @name AND step BETWEEN @from AND @to AND revision <= @upTo';
    this.pointsAscending = db.prepare<SliceParams & { limit: number }, MetricPointRow>(
      `SELECT step, value, timestamp FROM metric_points WHERE ${slice} ORDER BY step LIMIT @limit`,
    );
    this.lastIn = db.prepare<SliceParams, MetricPointRow>(
      `SELECT step, value, timestamp FROM metric_points WHERE ${slice} ORDER BY step DESC LIMIT 1`,
    );
    this.firstIn = db.prepare<SliceParams, { step: number }>(
      `SELECT step FROM metric_points WHERE ${slice} ORDER BY step LIMIT 1`,
    );
    this.aggregateIn = db.prepare<SliceParams, { count: number; min: number | null; max: number | null }>(
      `SELECT count(*) AS count, min(value) AS min, max(value) AS max FROM metric_points WHERE ${slice}`,
    );
    this.aggregateOfCover = db.prepare<CoverParams, Aggregate>(coverQuery());
  }

  /** A job's series, by name, optionally only the named ones (filtered in the query), now or at a revision. */
  series(jobId: string, names: readonly string[] | null, upToRevision: number | null): MetricSeriesRef[] {
    const rows = this.seriesOfJob.all({
      jobId,
      upTo: upToRevision ?? EVERY_REVISION,
      names: names === null ? null : JSON.stringify(names),
    });
    return rows.map((row) => ({
      jobId,
      name: row.name,
      upToRevision,
      indexed: {
        count: row.count,
        firstStep: row.first_step,
        lastStep: row.last_step,
        min: row.min_value,
        max: row.max_value,
        last: { step: row.last_step, value: row.last_value, timestamp: row.last_timestamp },
      },
    }));
  }

  /** Count, step and value ranges and the last point: from the index now; for a past revision, one scan of its points. */
  summary(series: MetricSeriesRef): SeriesSummary {
    if (series.upToRevision === null) return series.indexed;
    const all = this.params(series, {});
    const { count, min, max } = this.aggregateIn.get(all)!;
    const last = this.lastIn.get(all)!;
    return { count, firstStep: this.firstIn.get(all)!.step, lastStep: last.step, min: min!, max: max!, last };
  }

  last(series: MetricSeriesRef): MetricPointRow {
    return series.upToRevision === null ? series.indexed.last : this.lastIn.get(this.params(series, {}))!;
  }

  /** The first `limit` points of the range after `afterStep` (exclusive), by step. */
  points(series: MetricSeriesRef, range: StepRange, limit: number, afterStep?: number): MetricPointRow[] {
    const params = this.params(series, range);
    if (afterStep !== undefined) params.from = Math.max(params.from, afterStep + 1);
    return this.pointsAscending.all({ ...params, limit });
  }

  /**
   * At most `count` buckets of equal step widths over the range (narrowed to
   * the steps it holds), each with its count, min, max and last point, so a
   * spike survives however far the series is downsampled. Empty buckets are
   * left out. Now: from the blocks; at a past revision: by a scan of the points.
   */
  buckets(series: MetricSeriesRef, count: number, range: StepRange): MetricBucket[] {
    const aggregate =
      series.upToRevision === null ? this.aggregateNow : (bucket: SliceParams) => this.aggregateIn.get(bucket)!;
    const params = this.params(series, range);
    const first = this.firstIn.get(params)?.step;
    if (first === undefined) return [];
    const last = this.lastIn.get(params)!.step;
    const width = Math.ceil((last - first + 1) / count);
    const buckets: MetricBucket[] = [];
    for (let from = first; from <= last; from += width) {
      const bucket = { ...params, from, to: Math.min(last, from + width - 1) };
      const { count: points, min, max } = aggregate(bucket);
      if (points === 0) continue;
      buckets.push({
        fromStep: bucket.from,
        toStep: bucket.to,
        count: points,
        min: min!,
        max: max!,
        last: this.lastIn.get(bucket)!,
      });
    }
    return buckets;
  }

  /**
   * Count, min and max of a bucket of the series now, from its cover by blocks. A narrow bucket
   * whose cover would read more than a quarter of the rows its points could take is scanned
   * instead: the cover's six range seeks cost about as much as reading 20 to 30 points (measured).
   */
  private readonly aggregateNow = (bucket: SliceParams): Aggregate => {
    const cover = coverOf(bucket);
    if (rowsOf(cover) * 4 > bucket.to - bucket.from + 1) return this.aggregateIn.get(bucket)!;
    return this.aggregateOfCover.get(coverParams(bucket.jobId, bucket.name, cover))!;
  };

  private params(series: MetricSeriesRef, range: StepRange): SliceParams {
    return {
      jobId: series.jobId,
      name: series.name,
      from: range.fromStep ?? LOWEST,
      to: range.toStep ?? HIGHEST,
      upTo: series.upToRevision ?? EVERY_REVISION,
    };
  }
}
