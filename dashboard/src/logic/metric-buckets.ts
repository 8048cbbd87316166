// Downsampled metric series for the job page's charts. The server cuts a step range into at most
// `count` intervals and answers each one's min, max and last point (MetricSeries.buckets); a chart
// asks for about one bucket per pixel, draws the last values as its line and min..max as a band, so
// a spike inside a bucket still shows however many points the series holds.

/** The server's MetricBucket, as the page queries it. */
export interface MetricBucket {
  fromStep: number;
  toStep: number;
  count: number;
  min: number;
  max: number;
  last: { step: number; value: number };
}

/** What the page knows of a series without its points (MetricSeries' summary fields). */
export interface SeriesSummary {
  count: number;
  firstStep: number;
  lastStep: number;
}

/** uPlot's columns: steps, then last values, minima and maxima (same length). */
export type BandColumns = [number[], number[], number[], number[]];

/** The server's cap on `buckets(count)` (TRIALOG_LIMIT_METRIC_BUCKETS_PER_READ's default). */
const MAX_BUCKETS_PER_READ = 2000;

/** Buckets to ask for a chart this many pixels wide: one a pixel, within what the server answers. */
export function bucketCountFor(widthPx: number): number {
  return Math.max(1, Math.min(MAX_BUCKETS_PER_READ, Math.round(widthPx)));
}

/** Columns for uPlot, in step order; each bucket is drawn at the step of its last point. */
export function bucketsToColumns(buckets: readonly MetricBucket[]): BandColumns {
  const steps: number[] = [];
  const last: number[] = [];
  const min: number[] = [];
  const max: number[] = [];
  for (const bucket of buckets) {
    steps.push(bucket.last.step);
    last.push(bucket.last.value);
    min.push(bucket.min);
    max.push(bucket.max);
  }
  return [steps, last, min, max];
}

/**
 * The overview of a whole series with a zoomed range's finer buckets in place of its own: the
 * chart keeps showing the whole series (so un-zooming needs no fetch) and has detail where the
 * person looks.
 */
export function withDetail(
  overview: readonly MetricBucket[],
  detail: { fromStep: number; toStep: number; buckets: readonly MetricBucket[] } | null,
): MetricBucket[] {
  if (!detail) return [...overview];
  const before = overview.filter((bucket) => bucket.last.step < detail.fromStep);
  const after = overview.filter((bucket) => bucket.last.step > detail.toStep);
  return [...before, ...detail.buckets, ...after];
}

/** What to fetch after the series changed: nothing, its new tail only, or the whole series again. */
export type Refresh =
  { kind: 'none' } | { kind: 'whole' } | { kind: 'tail'; fromStep: number; toStep: number; count: number };

/**
 * Decides how to bring an overview up to date with a series that grew, reading only what is new
 * when it can: points appended past the known last step are fetched as a tail, in buckets as wide
 * as the overview's, so a live series costs a few buckets per update, not a whole read. Anything
 * else (points before the first, or inside the known range) re-reads the whole series, as does a
 * tail that would make the overview more than twice as fine as the chart (it is then re-cut to fit).
 */
export function refreshFor(
  overview: readonly MetricBucket[],
  known: SeriesSummary | null,
  now: SeriesSummary,
  bucketCount: number,
): Refresh {
  if (now.count === 0) return known && known.count > 0 ? { kind: 'whole' } : { kind: 'none' };
  if (!known || overview.length === 0 || known.count === 0) return { kind: 'whole' };
  if (now.count === known.count && now.lastStep === known.lastStep && now.firstStep === known.firstStep)
    return { kind: 'none' };
  if (now.firstStep !== known.firstStep || now.lastStep <= known.lastStep) return { kind: 'whole' };
  // Points were also added inside the known range (a worker giving its own steps): re-read.
  if (now.count - known.count > now.lastStep - known.lastStep) return { kind: 'whole' };
  const width = Math.max(1, Math.ceil((known.lastStep - known.firstStep + 1) / bucketCount));
  const count = Math.min(bucketCount, Math.max(1, Math.ceil((now.lastStep - known.lastStep) / width)));
  if (overview.length + count > 2 * bucketCount) return { kind: 'whole' };
  return { kind: 'tail', fromStep: known.lastStep + 1, toStep: now.lastStep, count };
}

/** The overview with a fetched tail after it (buckets at or before its last step are already in). */
export function appendTail(overview: readonly MetricBucket[], tail: readonly MetricBucket[]): MetricBucket[] {
  const lastStep = overview.length ? overview[overview.length - 1]!.last.step : -Infinity;
  return [...overview, ...tail.filter((bucket) => bucket.last.step > lastStep)];
}

/** The y range to show: the data's, widened to include a marked value (a pruning threshold). */
export function yRangeWith(min: number | null, max: number | null, marked: number | null): [number, number] {
  const values = [min, max, marked].filter((value): value is number => value !== null && Number.isFinite(value));
  if (values.length === 0) return [0, 1];
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    const pad = Math.abs(low) * 0.1 || 1;
    return [low - pad, high + pad];
  }
  const pad = (high - low) * 0.05;
  low -= pad;
  high += pad;
  return [low, high];
}
