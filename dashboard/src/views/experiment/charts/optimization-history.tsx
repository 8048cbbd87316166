import { useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { Chart } from '../../../components/chart';
import { HistoryColumns } from '../../../logic/history-columns';
import { discMask, packColour, stampPoints } from '../../../logic/point-stamp';
import { navigate } from '../../../lib/route';
import { theme } from '../../../lib/theme';
import type { Trial } from '../trial';
import { cssVar, rgbOf, STATUSES, STATUS_VARIABLE } from './colors';
import { onPlainClick } from './frame-draw';
import type { Objective } from './objective';
import './charts.css';

/**
 * The objective of every trial by creation order, one point series per status (so the legend
 * counts and toggles them), and the best value so far among finished trials as a step line.
 * Points are stamped as pixels by a hook (logic/point-stamp.ts), not stroked by uPlot as arcs:
 * 10,000 arcs take over 100 ms a frame on this machine. Clicking a point opens its job. Zoom survives live updates (components/chart.tsx). A live change
 * patches the columns in place (logic/history-columns.ts): trials are compared by identity, so the
 * page must replace a changed trial with a new object and keep unchanged ones.
 */
export function OptimizationHistory({ trials, objective }: { trials: readonly Trial[]; objective: Objective }) {
  const columns = useRef<HistoryColumns<Trial> | null>(null);
  columns.current ??= new HistoryColumns<Trial>(STATUSES, (t) => t.status === 'SUCCEEDED');
  const ordered = columns.current;
  const last = useRef<uPlot.AlignedData>([[]]);
  const data = useMemo(() => {
    const c = ordered;
    // The same (patched) arrays in a new list: uPlot reads them again; no change keeps the list.
    if (c.update(trials, objective?.direction ?? 'MINIMIZE'))
      last.current = [c.x, ...c.byStatus, c.best] as uPlot.AlignedData;
    return last.current;
  }, [trials, objective?.direction]);

  const painter = useRef<PointPainter>({ canvas: null, image: null, colours: [] });
  const themeName = theme.value;
  const options = useMemo((): Omit<uPlot.Options, 'width'> => {
    const text = cssVar('--fg-soft');
    const grid = cssVar('--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    painter.current.colours = STATUSES.map((status) => packColour(rgbOf(cssVar(STATUS_VARIABLE[status]))));
    return {
      height: 320,
      scales: { x: { time: false } },
      cursor: { drag: { x: true, y: true }, points: { size: 8 } },
      series: [
        { label: 'trial', value: (_u, v) => (v === null ? '' : `#${v}`) },
        ...STATUSES.map((status): uPlot.Series => ({
          label: status.toLowerCase(),
          stroke: cssVar(STATUS_VARIABLE[status]),
          fill: cssVar(STATUS_VARIABLE[status]),
          paths: () => null,
          // Drawn by the drawAxes hook; size and fill still serve the cursor's point.
          points: { show: false, size: POINT_SIZE, width: 0, fill: cssVar(STATUS_VARIABLE[status]) },
        })),
        {
          label: 'best so far',
          stroke: cssVar('--fg'),
          width: 2,
          spanGaps: true,
          paths: uPlot.paths.stepped!({ align: 1 }),
          points: { show: false },
        },
      ],
      axes: [
        { ...axis, label: 'trial' },
        { ...axis, label: objective?.metric ?? 'objective', size: 60 },
      ],
      hooks: {
        // After the grid, before the series: the best-so-far line stays on top of the points.
        drawAxes: [(u) => drawPoints(u, ordered, painter.current)],
        ready: [
          (u) =>
            onPlainClick(u.over, () => {
              const trial = u.cursor.idx != null ? ordered.rows[u.cursor.idx] : undefined;
              if (trial && trial.objectiveValue !== null) navigate(`/jobs/${encodeURIComponent(trial.id)}`);
            }),
        ],
      },
    };
    // The theme is read through cssVar: a theme switch rebuilds the chart with its colours.
  }, [themeName, objective?.metric]);

  if (!objective) return <p class="muted">This experiment has no objective: there is no history to plot.</p>;
  return (
    <figure class="experiment-chart" title="Drag to zoom (double-click to reset); click a point to open its job">
      <Chart options={options} data={data} />
    </figure>
  );
}

const POINT_SIZE = 5;

interface PointPainter {
  canvas: HTMLCanvasElement | null;
  image: ImageData | null;
  /** Packed colour per status (STATUSES order). */
  colours: number[];
}

/** Every shown status's points, stamped into an image of the plot area, in series order (later on top). */
function drawPoints(u: uPlot, columns: HistoryColumns<Trial>, painter: PointPainter): void {
  const { min: x0, max: x1 } = u.scales.x!;
  const { min: y0, max: y1 } = u.scales.y!;
  if (x0 == null || x1 == null || y0 == null || y1 == null || x1 === x0 || y1 === y0) return;
  const width = Math.max(1, Math.round(u.bbox.width));
  const height = Math.max(1, Math.round(u.bbox.height));
  if (!painter.image || painter.image.width !== width || painter.image.height !== height) {
    painter.canvas ??= document.createElement('canvas');
    painter.canvas.width = width;
    painter.canvas.height = height;
    painter.image = new ImageData(width, height);
  }
  const pixels = new Uint32Array(painter.image.data.buffer);
  pixels.fill(0);
  const ax = width / (x1 - x0);
  const ay = -height / (y1 - y0);
  const p = { ax, bx: -x0 * ax, ay, by: height - y0 * ay };
  const mask = discMask(Math.round(POINT_SIZE * devicePixelRatio));
  STATUSES.forEach((_, s) => {
    if (u.series[s + 1]?.show)
      stampPoints(pixels, width, height, columns.x, columns.byStatus[s]!, p, painter.colours[s]!, mask);
  });
  painter.canvas!.getContext('2d')!.putImageData(painter.image, 0, 0);
  u.ctx.drawImage(painter.canvas!, u.bbox.left, u.bbox.top);
}
