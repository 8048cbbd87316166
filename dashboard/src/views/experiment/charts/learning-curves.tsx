import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { Chart } from '../../../components/chart';
import { formatNumber } from '../../../logic/axis-scale';
import { Coalescer } from '../../../logic/changed-slots';
import { nearestCurve, type Projection } from '../../../logic/curve-set';
import { minMaxDownsample, type Curve } from '../../../logic/downsample';
import { LiveCurveSet } from '../../../logic/live-curves';
import { param, setParams } from '../../../lib/route';
import { theme } from '../../../lib/theme';
import type { Trial, TrialStatus } from '../trial';
import { cssVar, rgbOf, STATUSES, STATUS_VARIABLE } from './colors';
import { onPlainClick, useFrameDraw } from './frame-draw';
import type { Objective } from './objective';
import './charts.css';

/** Points kept per curve for display: more than a chart has pixel columns would not show. */
const MAX_BUCKETS_PER_CURVE = 600;
/** Bins of the invisible envelope series uPlot ranges its y axis on. */
const ENVELOPE_BINS = 256;
const SVG = 'http://www.w3.org/2000/svg';
/** From this many curves on, they are drawn as a density image rather than as canvas strokes. */
const DENSITY_FROM = 400;
/** Full recomputes (envelope, density image) happen at most this often; live changes in between are patched in. */
const FULL_RECOMPUTE_MS = 250;
/** Colour layers, drawn in this order: finished trials under the others, so pruned and running curves stay visible on top. */
const LAYERS = ['--accent', '--muted', '--bad', '--ok', '--warn'];
const layerOf = (t: Trial) => LAYERS.indexOf(STATUS_VARIABLE[t.status]);

/** What the draw hook keeps between frames: the canvas the density image is put on, and how it was drawn. */
interface Painter {
  canvas: HTMLCanvasElement | null;
  image: ImageData | null;
  colours: [number, number, number][];
  rebuild: Coalescer;
  retry: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Every trial's curve of the objective metric on one chart. uPlot gives the axes, zoom and cursor;
 * the curves themselves are drawn by a draw hook (one canvas path per status for a few hundred,
 * a density image for more), because one uPlot series per trial does not scale past a few hundred
 * trials. The hovered or selected trial is drawn on an SVG overlay (no repaint of the other curves),
 * with, on a pruned trial, the threshold its rule used at the pruning step and how many trials that
 * came from. Live changes are patched in (logic/live-curves.ts): trials are compared by identity,
 * so the page must replace a changed trial with a new object and keep unchanged ones.
 */
export function LearningCurves({ trials, objective }: { trials: readonly Trial[]; objective: Objective }) {
  const model = useRef<LiveCurveSet<Trial> | null>(null);
  model.current ??= new LiveCurveSet<Trial>({
    curveOf: (t) => t.curve,
    display: (curve) => minMaxDownsample(curve, MAX_BUCKETS_PER_CURVE),
    layerOf,
    bins: ENVELOPE_BINS,
  });
  const set = model.current;
  const envelopeRebuild = useRef(new Coalescer(FULL_RECOMPUTE_MS));
  const [deferred, setDeferred] = useState(0);
  const deferredTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(deferredTimer.current), []);
  const painter = useRef<Painter>({
    canvas: null,
    image: null,
    colours: [],
    rebuild: new Coalescer(FULL_RECOMPUTE_MS),
    retry: undefined,
  });
  useEffect(() => () => clearTimeout(painter.current.retry), []);

  const lastData = useRef<uPlot.AlignedData>([[], [], []]);
  const data = useMemo((): uPlot.AlignedData => {
    let changed = set.update(trials);
    if (set.stale) {
      if (envelopeRebuild.current.take(performance.now())) {
        set.rebuild();
        changed = true;
      } else if (deferredTimer.current === undefined) {
        // A rebuild just ran: this one waits (the envelope meanwhile is a superset, so nothing is cut off).
        deferredTimer.current = setTimeout(() => {
          deferredTimer.current = undefined;
          setDeferred((n) => n + 1);
        }, envelopeRebuild.current.wait(performance.now()));
      }
    }
    // The same (patched) arrays in a new list: uPlot reads them again; an unchanged envelope keeps the list.
    if (changed) lastData.current = [set.envelope.x, set.envelope.low, set.envelope.high];
    return lastData.current;
  }, [trials, deferred]);
  const selectedId = param('lc');
  const [hovered, setHovered] = useState<number | null>(null);
  const plot = useRef<uPlot | null>(null);
  const overlay = useRef<SVGSVGElement | null>(null);
  const pointer = useRef<{ left: number; top: number } | null>(null);

  const selectedIndex = useMemo(
    () => (selectedId ? trials.findIndex((t) => t.id === selectedId) : -1),
    [trials, selectedId],
  );
  const focus = hovered ?? (selectedIndex >= 0 ? selectedIndex : null);
  const focusRef = useRef(focus);
  focusRef.current = focus;

  const hitTest = useFrameDraw(() => {
    const u = plot.current;
    const at = pointer.current;
    if (!u || !at) return setHovered(null);
    const p = projection(u, false);
    setHovered(p ? nearestCurve(set.curves, p, at.left, at.top, 6) : null);
  });
  const redrawOverlay = useFrameDraw(() => drawFocus(plot.current, overlay.current, set, focusRef.current));
  useEffect(redrawOverlay, [focus, trials]);
  // A change that left the envelope as it was: uPlot has no new data, but the curves changed.
  const drawnData = useRef<uPlot.AlignedData | null>(null); // null: the chart's first data is drawn as it is created
  useEffect(() => {
    if (drawnData.current === data) plot.current?.redraw(false, false);
    drawnData.current = data;
  }, [trials, deferred]);

  const themeName = theme.value;
  const options = useMemo((): Omit<uPlot.Options, 'width'> => {
    const text = cssVar('--fg-soft');
    const grid = cssVar('--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const invisible: uPlot.Series = { stroke: 'transparent', paths: () => null, points: { show: false } };
    painter.current.colours = LAYERS.map((variable) => rgbOf(cssVar(variable)));
    return {
      height: 360,
      legend: { show: false },
      scales: { x: { time: false } },
      cursor: { drag: { x: true, y: true }, points: { show: false } },
      series: [{}, { ...invisible, label: 'lowest' }, { ...invisible, label: 'highest' }],
      axes: [
        { ...axis, label: 'step' },
        { ...axis, label: objective?.metric ?? 'objective', size: 60 },
      ],
      hooks: {
        draw: [(u) => drawCurves(u, set, painter.current)],
        setScale: [() => redrawOverlay()],
        setSize: [() => redrawOverlay()],
        setCursor: [
          (u) => {
            const { left, top } = u.cursor;
            pointer.current = left != null && left >= 0 && top != null ? { left, top } : null;
            hitTest();
          },
        ],
        ready: [
          (u) => {
            plot.current = u;
            const svg = document.createElementNS(SVG, 'svg');
            svg.classList.add('curve-focus');
            u.over.append(svg);
            overlay.current = svg;
            onPlainClick(u.over, () => {
              const index = focusRef.current;
              const trial = index !== null ? set.items[index] : undefined;
              setParams({ lc: trial && trial.id !== param('lc') ? trial.id : null });
            });
            u.over.addEventListener('mouseleave', () => {
              pointer.current = null;
              hitTest();
            });
          },
        ],
      },
    };
  }, [themeName, objective?.metric]);

  if (!objective) return <p class="muted">This experiment has no objective metric: there are no curves to draw.</p>;
  const trial = focus !== null ? trials[focus] : undefined;
  return (
    <figure class="experiment-chart">
      <Chart options={options} data={data} />
      <figcaption class="chart-caption">
        <Legend />
        {trial ? (
          <TrialDetail trial={trial} pinned={trial.id === selectedId} />
        ) : (
          <span class="muted">
            Hover a curve to see its trial; click to keep it; drag to zoom, double-click to reset.
          </span>
        )}
      </figcaption>
    </figure>
  );
}

function Legend() {
  const seen: Partial<Record<string, TrialStatus[]>> = {};
  for (const status of STATUSES) (seen[STATUS_VARIABLE[status]] ??= []).push(status);
  return (
    <span class="curve-legend">
      {Object.entries(seen).map(([variable, statuses]) => (
        <span key={variable} class={`swatch swatch-${variable.slice(2)}`}>
          {statuses!.map((s) => s.toLowerCase()).join(', ')}
        </span>
      ))}
      <span class="swatch-pruned-marker">× pruning step</span>
    </span>
  );
}

function TrialDetail({ trial, pinned }: { trial: Trial; pinned: boolean }) {
  const last = trial.curve && trial.curve.values.length ? trial.curve.values[trial.curve.values.length - 1]! : null;
  return (
    <span class="curve-detail">
      <a href={`/jobs/${encodeURIComponent(trial.id)}`}>trial #{trial.index}</a>{' '}
      <span class={`status status-${trial.status}`}>{trial.status}</span>
      {pinned ? <span class="muted"> (selected)</span> : null}
      {trial.objectiveValue !== null ? (
        <> · objective {formatNumber(trial.objectiveValue)}</>
      ) : last !== null ? (
        <> · last {formatNumber(last)}</>
      ) : null}
      {trial.pruning ? <> · {whyPruned(trial.pruning)}</> : null}
    </span>
  );
}

/** "why pruned", in words, from what the pruning event recorded (not recomputed here). */
function whyPruned(p: NonNullable<Trial['pruning']>): string {
  const rule = p.rule === 'successiveHalving' ? 'successive halving' : p.rule;
  const basis =
    p.threshold === null
      ? ''
      : p.rule === 'median'
        ? `; the median of ${p.comparedTrials ?? '?'} trials at that step was ${formatNumber(p.threshold)}`
        : `; the rung's cutoff from ${p.comparedTrials ?? '?'} trials was ${formatNumber(p.threshold)}`;
  return `pruned by ${rule} at step ${p.step} with ${formatNumber(p.value)}${basis}`;
}

/** Data → pixels for the current scales: canvas pixels (for drawing) or CSS pixels of the plot area (for the pointer). */
function projection(u: uPlot, canvas: boolean): Projection | null {
  const { min: x0, max: x1 } = u.scales.x!;
  const { min: y0, max: y1 } = u.scales.y!;
  if (x0 == null || x1 == null || y0 == null || y1 == null || x1 === x0 || y1 === y0) return null;
  const ratio = canvas ? 1 : devicePixelRatio;
  const left = canvas ? u.bbox.left : 0;
  const top = canvas ? u.bbox.top : 0;
  const width = u.bbox.width / ratio;
  const height = u.bbox.height / ratio;
  const ax = width / (x1 - x0);
  const ay = -height / (y1 - y0);
  return { ax, bx: left - x0 * ax, ay, by: top + height - y0 * ay };
}

/**
 * All curves: a few hundred as canvas strokes; more as a density image (logic/line-density.ts),
 * because rasterizing a million stroked segments takes the CPU about a second.
 */
function drawCurves(u: uPlot, set: LiveCurveSet<Trial>, painter: Painter): void {
  const p = projection(u, true);
  if (!p) return;
  const { items: trials, curves, drawn } = set;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.lineWidth = devicePixelRatio;
  ctx.lineJoin = 'round';
  if (drawn >= DENSITY_FROM) drawDensity(u, set, p, painter);
  else {
    set.density = null; // not kept up to date while strokes are drawn
    // A few curves read best as anti-aliased strokes, faint enough that overlaps show.
    ctx.globalAlpha = Math.max(0.15, Math.min(0.9, 40 / Math.max(1, drawn)));
    const byLayer = LAYERS.map((): number[] => []);
    trials.forEach((t, i) => {
      if (curves[i]) byLayer[layerOf(t)]!.push(i);
    });
    byLayer.forEach((members, layer) => {
      ctx.strokeStyle = cssVar(LAYERS[layer]!);
      for (const i of members) {
        ctx.beginPath();
        tracePath(ctx, curves[i]!, p);
        ctx.stroke();
      }
    });
  }
  // The pruning step of each pruned trial: a cross where the rule stopped it.
  ctx.globalAlpha = 0.8;
  ctx.strokeStyle = cssVar('--warn');
  ctx.beginPath();
  const r = 3 * devicePixelRatio;
  trials.forEach((t) => {
    if (!t.pruning) return;
    const x = p.ax * t.pruning.step + p.bx;
    const y = p.ay * t.pruning.value + p.by;
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x - r, y + r);
    ctx.lineTo(x + r, y - r);
  });
  ctx.stroke();
  ctx.restore();
}

/** What tracing a curve needs of a canvas context (and of the SVG path recorder). */
interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
}

/**
 * One curve's opacity in the density image: fainter the more curves there are. Stepped (four steps
 * per doubling) so a new curve rarely changes it, since a change recomposes every pixel.
 */
function densityOpacity(drawn: number): number {
  const stepped = 2 ** (Math.ceil(Math.log2(Math.max(1, drawn)) * 4) / 4);
  return Math.max(0.02, Math.min(0.5, 40 / stepped));
}

const sameProjection = (a: Projection, b: Projection) =>
  a.ax === b.ax && a.bx === b.bx && a.ay === b.ay && a.by === b.by;

/**
 * The density image, patched by live changes (the model updates it). When the axes' ranges or the
 * size changed it is rebuilt, but at most every FULL_RECOMPUTE_MS: in between, the last image is
 * drawn stretched to the new ranges, and a redraw is scheduled for when a rebuild may run.
 */
function drawDensity(u: uPlot, set: LiveCurveSet<Trial>, p: Projection, painter: Painter): void {
  const width = Math.max(1, Math.round(u.bbox.width));
  const height = Math.max(1, Math.round(u.bbox.height));
  const local = { ...p, bx: p.bx - u.bbox.left, by: p.by - u.bbox.top };
  const opacity = densityOpacity(set.drawn);
  let density = set.density;
  const fits =
    density && density.width === width && density.height === height && sameProjection(density.projection, local);
  if (!fits) {
    if (density && painter.canvas && !painter.rebuild.take(performance.now())) {
      const old = density.projection;
      const sx = local.ax / old.ax;
      const sy = local.ay / old.ay;
      u.ctx.drawImage(
        painter.canvas,
        u.bbox.left + local.bx - old.bx * sx,
        u.bbox.top + local.by - old.by * sy,
        density.width * sx,
        density.height * sy,
      );
      if (painter.retry === undefined) {
        painter.retry = setTimeout(() => {
          painter.retry = undefined;
          u.redraw(false, false);
        }, painter.rebuild.wait(performance.now()));
      }
      return;
    }
    density = set.buildDensity(width, height, local, painter.colours, opacity);
    painter.canvas ??= document.createElement('canvas');
    painter.canvas.width = width;
    painter.canvas.height = height;
    painter.image = new ImageData(density.pixels, width, height);
  }
  density!.setColours(painter.colours);
  density!.setOpacity(opacity);
  const rows = density!.compose();
  if (rows)
    painter.canvas!.getContext('2d')!.putImageData(painter.image!, 0, 0, 0, rows.top, width, rows.bottom - rows.top);
  u.ctx.drawImage(painter.canvas!, u.bbox.left, u.bbox.top);
}

function tracePath(ctx: PathSink, curve: Curve, p: Projection): void {
  let open = false;
  for (let k = 0; k < curve.steps.length; k++) {
    const value = curve.values[k]!;
    if (!Number.isFinite(value)) {
      open = false;
      continue;
    }
    const x = p.ax * curve.steps[k]! + p.bx;
    const y = p.ay * value + p.by;
    if (open) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    open = true;
  }
}

/** The focused trial on the overlay: its curve, its pruning marker and the threshold the rule used. */
function drawFocus(
  u: uPlot | null,
  svg: SVGSVGElement | null,
  { items: trials, curves }: LiveCurveSet<Trial>,
  focus: number | null,
): void {
  if (!u || !svg) return;
  svg.replaceChildren();
  const p = projection(u, false);
  const curve = focus !== null ? curves[focus] : null;
  const trial = focus !== null ? trials[focus] : undefined;
  if (!p || !curve || !trial) return;
  const path = new Path2DRecorder();
  tracePath(path, curve, p);
  const line = document.createElementNS(SVG, 'path');
  line.setAttribute('d', path.d);
  line.setAttribute('class', `focus-curve focus-${trial.status}`);
  svg.append(line);
  const pruning = trial.pruning;
  if (!pruning) return;
  const x = p.ax * pruning.step + p.bx;
  const y = p.ay * pruning.value + p.by;
  const marker = document.createElementNS(SVG, 'path');
  marker.setAttribute('d', `M${x - 5},${y - 5}L${x + 5},${y + 5}M${x - 5},${y + 5}L${x + 5},${y - 5}`);
  marker.setAttribute('class', 'focus-pruned');
  svg.append(marker);
  if (pruning.threshold === null) return;
  const ty = p.ay * pruning.threshold + p.by;
  const threshold = document.createElementNS(SVG, 'line');
  threshold.setAttribute('x1', String(x - 40));
  threshold.setAttribute('x2', String(x + 40));
  threshold.setAttribute('y1', String(ty));
  threshold.setAttribute('y2', String(ty));
  threshold.setAttribute('class', 'focus-threshold');
  svg.append(threshold);
  const label = document.createElementNS(SVG, 'text');
  label.setAttribute('x', String(x + 44));
  label.setAttribute('y', String(ty + 4));
  label.setAttribute('class', 'focus-label');
  label.textContent = `${pruning.rule === 'median' ? 'median' : 'cutoff'} ${formatNumber(pruning.threshold)} of ${pruning.comparedTrials ?? '?'} trials`;
  svg.append(label);
}

/** Records moveTo/lineTo as an SVG path string, so one tracing function serves canvas and SVG. */
class Path2DRecorder implements PathSink {
  d = '';
  moveTo(x: number, y: number) {
    this.d += `M${x.toFixed(1)},${y.toFixed(1)}`;
  }
  lineTo(x: number, y: number) {
    this.d += `L${x.toFixed(1)},${y.toFixed(1)}`;
  }
}
