// One chart per metric series, downsampled on the server: about one bucket per pixel, drawn as the
// last values with a min..max band, so a spike survives however many points the series holds. A
// zoom fetches buckets for the zoomed step range only (detail where the person looks), live growth
// fetches only the new tail, and neither resets the zoom.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { Chart } from '../../components/chart';
import { describeError, request } from '../../lib/graphql';
import { theme } from '../../lib/theme';
import {
  appendTail,
  bucketCountFor,
  bucketsToColumns,
  refreshFor,
  withDetail,
  yRangeWith,
  type MetricBucket,
  type SeriesSummary,
} from '../../logic/metric-buckets';
import type { PruningDecision } from '../../logic/pruning';
import {
  BUCKETS_QUERY,
  jobOrPastVariables,
  type BucketsAnswer,
  type JobFields,
  type SeriesSummaryFields,
} from './queries';

const CHART_HEIGHT = 220;
/** 1, 2, 5, 10, 20, 50… up to 5e9: tick spacings for an axis of whole steps. */
const STEP_INCREMENTS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

export function MetricCharts({ job, revision }: { job: JobFields; revision: number | null }) {
  const objective = job.experiment?.objective?.metric ?? null;
  const series = [...job.metrics].sort(
    (a, b) => Number(b.name === objective) - Number(a.name === objective) || a.name.localeCompare(b.name),
  );
  if (series.length === 0)
    return <p class="muted">No metrics reported{revision === null ? ' yet' : ' at this revision'}.</p>;
  return (
    <div class="job-charts">
      {series.map((summary) => (
        <MetricChart
          key={summary.name}
          jobId={job.id}
          revision={revision}
          summary={summary}
          objective={summary.name === objective}
          pruning={summary.name === objective ? job.pruning : null}
        />
      ))}
    </div>
  );
}

interface Detail {
  fromStep: number;
  toStep: number;
  buckets: MetricBucket[];
}

async function fetchBuckets(
  jobId: string,
  revision: number | null,
  name: string,
  count: number,
  range: { fromStep?: number; toStep?: number },
  signal?: AbortSignal,
): Promise<{ summary: SeriesSummary; buckets: MetricBucket[] } | null> {
  const data = await request<BucketsAnswer>(
    BUCKETS_QUERY,
    {
      ...jobOrPastVariables(jobId, revision),
      name,
      count,
      fromStep: range.fromStep ?? null,
      toStep: range.toStep ?? null,
    },
    signal,
  );
  const series = (data.live ?? data.past)?.metrics[0];
  if (!series) return null;
  return {
    summary: { count: series.count, firstStep: series.firstStep, lastStep: series.lastStep },
    buckets: series.buckets,
  };
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A colour with an alpha, from a #rrggbb CSS variable. */
function translucent(hex: string, alpha: number): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return hex;
  const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function MetricChart({
  jobId,
  revision,
  summary,
  objective,
  pruning,
}: {
  jobId: string;
  revision: number | null;
  summary: SeriesSummaryFields;
  objective: boolean;
  pruning: PruningDecision | null;
}) {
  const wrapper = useRef<HTMLDivElement>(null);
  const [overview, setOverview] = useState<MetricBucket[]>([]);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const overviewRef = useRef<MetricBucket[]>([]);
  const known = useRef<SeriesSummary | null>(null);
  const latest = useRef<SeriesSummary>(summary);
  latest.current = summary;
  const pruningRef = useRef(pruning);
  pruningRef.current = pruning;
  // What the chart reads from now: a read started for another revision is discarded when it lands.
  const target = useRef({ jobId, revision });
  target.current = { jobId, revision };
  const generation = useRef(0);
  const busy = useRef(false);
  const again = useRef(false);
  const zoomAbort = useRef<AbortController | null>(null);

  const bucketCount = () => bucketCountFor(wrapper.current?.clientWidth ?? 600);

  const setOverviewBoth = (buckets: MetricBucket[]) => {
    overviewRef.current = buckets;
    setOverview(buckets);
  };

  /** Brings the overview up to the latest summary: the new tail when it can, the whole series else. One read at a time. */
  const refresh = async () => {
    if (busy.current) return void (again.current = true);
    busy.current = true;
    try {
      do {
        again.current = false;
        const started = generation.current;
        const { jobId, revision } = target.current;
        const stale = () => started !== generation.current && (again.current = true);
        const count = bucketCount();
        const plan = refreshFor(overviewRef.current, known.current, latest.current, count);
        if (plan.kind === 'whole') {
          const answer = await fetchBuckets(jobId, revision, summary.name, count, {});
          if (stale()) continue;
          if (!answer) break;
          known.current = answer.summary;
          setOverviewBoth(answer.buckets);
        } else if (plan.kind === 'tail') {
          const answer = await fetchBuckets(jobId, revision, summary.name, plan.count, plan);
          if (stale()) continue;
          if (!answer) break;
          const tail = answer.buckets;
          if (tail.length > 0) {
            const before = known.current!;
            known.current = {
              count: before.count + tail.reduce((sum, bucket) => sum + bucket.count, 0),
              firstStep: before.firstStep,
              lastStep: tail[tail.length - 1]!.last.step,
            };
            setOverviewBoth(appendTail(overviewRef.current, tail));
          }
        }
      } while (again.current);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      busy.current = false;
    }
  };

  // A new job, revision or series: start over.
  useEffect(() => {
    generation.current += 1;
    known.current = null;
    setOverviewBoth([]);
    setDetail(null);
    void refresh();
  }, [jobId, revision, summary.name]);

  // The series grew (live): fetch what is new.
  useEffect(() => {
    if (known.current) void refresh();
  }, [summary.count, summary.firstStep, summary.lastStep]);

  /** The person zoomed (or un-zoomed): detail for the visible step range, the newest zoom winning. */
  const zoomTo = (min: number, max: number, xs: ArrayLike<number>) => {
    zoomAbort.current?.abort();
    const first = xs[0];
    const last = xs[xs.length - 1];
    if (first === undefined || last === undefined || (min <= first && max >= last)) {
      zoomAbort.current = null;
      setDetail(null);
      return;
    }
    const abort = new AbortController();
    zoomAbort.current = abort;
    const fromStep = Math.max(Math.ceil(min), known.current?.firstStep ?? Math.ceil(min));
    const toStep = Math.floor(max);
    if (toStep < fromStep) return;
    fetchBuckets(jobId, revision, summary.name, bucketCount(), { fromStep, toStep }, abort.signal).then(
      (answer) => {
        if (!abort.signal.aborted && answer) setDetail({ fromStep, toStep, buckets: answer.buckets });
      },
      () => undefined, // aborted by a newer zoom, or the overview still shows
    );
  };
  const zoomRef = useRef(zoomTo);
  zoomRef.current = zoomTo;

  const options = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    const fg = cssVar('--fg-soft');
    const grid = cssVar('--border');
    const line = cssVar('--accent');
    const bad = cssVar('--bad');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return {
      height: CHART_HEIGHT,
      scales: {
        x: { time: false },
        y: {
          range: (_u: uPlot, min: number, max: number) => yRangeWith(min, max, pruningRef.current?.threshold ?? null),
        },
      },
      // Steps are whole numbers: no tick at step 0.5.
      axes: [
        { ...axis, incrs: STEP_INCREMENTS },
        { ...axis, size: 64 },
      ],
      series: [
        { label: 'step' },
        { label: summary.name, stroke: line, width: 1.5, points: { show: false } },
        { label: 'min', stroke: translucent(line, 0.35), width: 1, points: { show: false } },
        { label: 'max', stroke: translucent(line, 0.35), width: 1, points: { show: false } },
      ],
      bands: [{ series: [3, 2], fill: translucent(line, 0.15) }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setScale: [
          (u: uPlot, key: string) => {
            if (key !== 'x') return;
            const { min, max } = u.scales.x ?? {};
            if (min !== undefined && max !== undefined) zoomRef.current(min, max, u.data[0]);
          },
        ],
        draw: [(u: uPlot) => drawPruning(u, pruningRef.current, bad)],
      },
    };
  }, [summary.name, theme.value]);

  const data = useMemo(() => bucketsToColumns(withDetail(overview, detail)), [overview, detail]);

  return (
    <figure
      class="job-chart"
      ref={wrapper}
      data-testid="metric-chart"
      data-series={summary.name}
      data-objective={objective ? 'true' : undefined}
      data-buckets={data[0].length}
      data-zoom={detail ? `${detail.fromStep}:${detail.toStep}` : undefined}
    >
      <figcaption>
        <strong>{summary.name}</strong>
        <span class="muted">
          {' '}
          {summary.count.toLocaleString()} points, steps {summary.firstStep}–{summary.lastStep}
          {detail ? ` · zoomed to ${detail.fromStep}–${detail.toStep} (double-click to reset)` : ' · drag to zoom'}
        </span>
      </figcaption>
      {error && <p class="error">{error}</p>}
      {data[0].length > 0 ? <Chart options={options} data={data} /> : <div class="job-chart-empty muted">loading…</div>}
    </figure>
  );
}

/** The pruning step as a vertical line and the threshold as a horizontal one, on the objective's chart. */
function drawPruning(u: uPlot, pruning: PruningDecision | null, color: string): void {
  if (!pruning) return;
  const { ctx, bbox } = u;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  const x = u.valToPos(pruning.step, 'x', true);
  if (x >= bbox.left && x <= bbox.left + bbox.width) {
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
  }
  if (pruning.threshold !== null) {
    const y = u.valToPos(pruning.threshold, 'y', true);
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textAlign = 'left'; // uPlot leaves its axes' alignment on the context
    ctx.textBaseline = 'bottom';
    ctx.fillText(
      pruning.rule === 'median' ? 'median' : 'cutoff',
      bbox.left + 4 * devicePixelRatio,
      y - 4 * devicePixelRatio,
    );
  }
  ctx.setLineDash([]);
  const valueY = u.valToPos(pruning.value, 'y', true);
  if (x >= bbox.left && x <= bbox.left + bbox.width) {
    ctx.beginPath();
    ctx.arc(x, valueY, 4 * devicePixelRatio, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}
