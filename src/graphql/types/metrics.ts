/**
 * A job's metric series: its last point and summary from the series index,
 * its points by step range (a bounded list, or pages with a cursor) and
 * buckets that downsample a range on the server. Every read is bounded by
 * what it asks for; `projections/metrics-queries.ts` does the reading.
 */
import { badInput, tooLarge } from '../../domain/errors.js';
import { MAX_METRIC_STEP } from '../../domain/job/decide.js';
import type { MetricPointRow } from '../../../projections/jobs-queries.js';
import type {
  MetricBucket as MetricBucketShape,
  MetricSeriesRef,
  SeriesSummary,
  StepRange,
} from '../../../projections/metrics-queries.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { connectionTypes, pageSize, toConnection } from '../pagination.js';

export const MetricPoint = builder.objectRef<MetricPointRow>('MetricPoint').implement({
  fields: (t) => ({
    step: t.exposeInt('step'),
    value: t.exposeFloat('value'),
    timestamp: t.field({ type: 'DateTime', resolve: (p) => p.timestamp }),
  }),
});

const MetricPointConnection = connectionTypes<MetricPointRow>('MetricPoint', MetricPoint);

const MetricBucket = builder.objectRef<MetricBucketShape>('MetricBucket').implement({
  description: 'Points of one step interval of a series, downsampled: their count, extremes and the last of them.',
  fields: (t) => ({
    fromStep: t.exposeInt('fromStep', { description: 'First step of the interval (whether or not a point has it).' }),
    toStep: t.exposeInt('toStep', { description: 'Last step of the interval.' }),
    count: t.exposeInt('count', {
      description: 'Points in the interval (at least one: empty intervals are left out).',
    }),
    min: t.exposeFloat('min'),
    max: t.exposeFloat('max'),
    last: t.field({
      type: MetricPoint,
      description: "The interval's point with the highest step.",
      resolve: (b) => b.last,
    }),
  }),
});

// A past series' summary costs a scan of its points: once per series per request, whatever fields ask for it.
const pastSummaries = new WeakMap<MetricSeriesRef, SeriesSummary>();
function summaryOf(series: MetricSeriesRef, { trialog }: GraphQLContext): SeriesSummary {
  let summary = pastSummaries.get(series);
  if (!summary) pastSummaries.set(series, (summary = trialog.jobQueries.metrics.summary(series)));
  return summary;
}

function stepRange(args: { fromStep?: number | null; toStep?: number | null }): StepRange {
  if (args.fromStep != null && args.toStep != null && args.fromStep > args.toStep) {
    throw badInput('fromStep must not be greater than toStep');
  }
  return { fromStep: args.fromStep, toStep: args.toStep };
}

function parseStepCursor(after: string | null | undefined): number | undefined {
  if (after === null || after === undefined) return undefined;
  if (!/^\d{1,10}$/.test(after) || Number(after) > MAX_METRIC_STEP)
    throw badInput('after is not a cursor of this series');
  return Number(after);
}

export const MetricSeries = builder.objectRef<MetricSeriesRef>('MetricSeries').implement({
  description: "One named series of a job's metrics. A step reported twice keeps its first value.",
  fields: (t) => ({
    name: t.exposeString('name'),
    points: t.field({
      type: [MetricPoint],
      description:
        `The points of a step range (both ends included; the whole series without one), by step. At most ` +
        `TRIALOG_LIMIT_METRIC_POINTS_PER_READ (default 10,000): a range holding more is TOO_LARGE unless \`first\` ` +
        'asks for only its first points; page it with `pointsPage` or downsample it with `buckets`.',
      args: { fromStep: t.arg.int(), toStep: t.arg.int(), first: t.arg.int() },
      resolve: (series, args, { trialog, limits }) => {
        const range = stepRange(args);
        const limit = limits.metricPointsPerRead;
        if (args.first != null && (args.first < 0 || args.first > limit)) {
          throw badInput(`first must be between 0 and ${limit}`);
        }
        const points = trialog.jobQueries.metrics.points(series, range, args.first ?? limit + 1);
        if (args.first == null && points.length > limit) {
          throw tooLarge(
            `metric ${series.name} has more than ${limit} points in this range: page them with pointsPage(first, after), ` +
              'downsample them with buckets(count), or narrow fromStep and toStep',
            { limit },
          );
        }
        return points;
      },
    }),
    pointsPage: t.field({
      type: MetricPointConnection,
      description:
        'The points of a step range, a page at a time by step (the cursor is a step: keep the same range across pages).',
      args: {
        fromStep: t.arg.int(),
        toStep: t.arg.int(),
        first: t.arg.int({ defaultValue: 100 }),
        after: t.arg.string(),
      },
      resolve: (series, args, { trialog, limits }) => {
        const first = pageSize(limits, args.first, 100);
        const points = trialog.jobQueries.metrics.points(
          series,
          stepRange(args),
          first + 1,
          parseStepCursor(args.after),
        );
        const items = points.slice(0, first).map((point) => ({ cursor: String(point.step), node: point }));
        return toConnection(items, points.length > first, args.after);
      },
    }),
    buckets: t.field({
      type: [MetricBucket],
      description:
        'The step range (the whole series without one) in at most `count` intervals of equal width, each with its ' +
        'count, min, max and last point, so spikes survive downsampling. `count` is at most ' +
        'TRIALOG_LIMIT_METRIC_BUCKETS_PER_READ (default 2,000).',
      args: { count: t.arg.int({ required: true }), fromStep: t.arg.int(), toStep: t.arg.int() },
      resolve: (series, args, { trialog, limits }) => {
        const max = limits.metricBucketsPerRead;
        if (args.count < 1 || args.count > max) throw badInput(`count must be between 1 and ${max}`);
        return trialog.jobQueries.metrics.buckets(series, args.count, stepRange(args));
      },
    }),
    last: t.field({
      type: MetricPoint,
      nullable: true,
      description: 'The point with the highest step.',
      resolve: (series, _args, { trialog }) => trialog.jobQueries.metrics.last(series),
    }),
    count: t.int({ description: 'Points in the series.', resolve: (s, _a, ctx) => summaryOf(s, ctx).count }),
    firstStep: t.int({ resolve: (s, _a, ctx) => summaryOf(s, ctx).firstStep }),
    lastStep: t.int({ resolve: (s, _a, ctx) => summaryOf(s, ctx).lastStep }),
    min: t.float({ description: 'The lowest value in the series.', resolve: (s, _a, ctx) => summaryOf(s, ctx).min }),
    max: t.float({ description: 'The highest value in the series.', resolve: (s, _a, ctx) => summaryOf(s, ctx).max }),
  }),
});
