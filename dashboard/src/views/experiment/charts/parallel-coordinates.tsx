import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { position, ticks, type Axis } from '../../../logic/axis-scale';
import type { Curve } from '../../../logic/downsample';
import { CurveDensity } from '../../../logic/line-density';
import { brushBetween, formatBrushes, inBrush, parseBrushes, type Brush, type Brushes } from '../../../logic/pc-brush';
import { PcModel } from '../../../logic/pc-model';
import { param, setParams } from '../../../lib/route';
import { theme } from '../../../lib/theme';
import type { Trial } from '../trial';
import { cssVar, rampBucket, rampColor, RAMP_SIZE, rgbOf } from './colors';
import { useFrameDraw } from './frame-draw';
import type { Objective } from './objective';
import './charts.css';

const HEIGHT = 380;
const MARGIN = { top: 34, bottom: 26, left: 50, right: 70 };
/** How near (CSS pixels) to an axis a drag starts a brush on it. */
const GRAB = 14;
/** From this many trials on, lines are drawn as a density image (logic/line-density.ts) rather than stroked. */
const DENSITY_FROM = 400;
/** Density layers: faded (outside a brush) first, then no objective yet, then the ramp (best on top). */
const FADED = 0;
const NO_OBJECTIVE = 1;
const FIRST_BUCKET = 2;

type Model = PcModel<Trial>;

/**
 * What painting keeps between frames. Stroking 10,000 polylines takes this machine's CPU 0.4-1.2 s, so
 * past DENSITY_FROM lines they are counted into a density image instead, and a live change moves only
 * its own line (subtract, add, recompose the pixels it touched); the axes are drawn over it each frame.
 */
interface Painter {
  density: CurveDensity | null;
  canvas: HTMLCanvasElement | null;
  image: ImageData | null;
  /** Rows changed since the last paint ('all': rebuild). */
  dirty: Set<number> | 'all';
  /** Whether each row passes the brushes, for `brushKey`. */
  passes: boolean[];
  brushKey: string | null;
  /** The brushes the density's layers were drawn for. */
  densityBrushKey: string | null;
  /** Each row's line as the density holds it (the same object while the row is unchanged). */
  lines: Curve[];
}

/**
 * Hyperparameters to objective: one vertical axis per parameter and a last one for the objective,
 * one polyline per trial coloured by its objective (best brightest). Drawn on a canvas, one path
 * per colour, at most once per frame. Dragging along an axis brushes a range; trials outside any
 * brush fade. Brushes live in the URL (`?pc=lr:0.001..0.01`); a click on an axis clears its brush.
 */
export function ParallelCoordinates({
  trials,
  objective,
  parameters,
}: {
  trials: readonly Trial[];
  objective: Objective;
  parameters: string[];
}) {
  const parametersKey = parameters.join('\u0000');
  const model = useMemo(
    () =>
      new PcModel<Trial>(parameters, objective?.metric ?? null, (at) =>
        at === null ? -1 : rampBucket(objective!.direction === 'MAXIMIZE' ? at : 1 - at),
      ),
    [parametersKey, objective?.metric, objective?.direction],
  );
  const painter = useRef<Painter>({
    density: null,
    canvas: null,
    image: null,
    dirty: 'all',
    passes: [],
    brushKey: null,
    densityBrushKey: null,
    lines: [],
  });
  // Live changes: the model patches the rows that changed (trials are compared by identity, so the page
  // must replace a changed trial with a new object); the next paint redraws those lines only.
  const version = useMemo(() => {
    const changed = model.update(trials);
    const p = painter.current;
    if (changed === 'all' || p.dirty === 'all') p.dirty = 'all';
    else for (const i of changed) p.dirty.add(i);
    return {};
  }, [model, trials]);
  useMemo(() => (painter.current.dirty = 'all'), [model]);
  const pcParam = param('pc');
  const brushes = useMemo(() => parseBrushes(pcParam), [pcParam]);
  const [dragging, setDragging] = useState<{ axis: number; from: number; to: number } | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(800);
  const [matching, setMatching] = useState(0);
  const themeName = theme.value;

  const state = useRef({ model, brushes, dragging, width });
  state.current = { model, brushes, dragging, width };
  const draw = useFrameDraw(() => {
    if (canvas.current) setMatching(paint(canvas.current, state.current, painter.current));
  });
  useEffect(draw, [version, brushes, dragging, width, themeName]);

  useEffect(() => {
    const element = canvas.current!.parentElement!;
    const observer = new ResizeObserver(() => setWidth(Math.max(320, element.clientWidth)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const axisX = (a: number) => axisPosition(a, model.axes.length, width);
  const locate = (event: PointerEvent) => {
    const box = canvas.current!.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const at = 1 - (y - MARGIN.top) / (HEIGHT - MARGIN.top - MARGIN.bottom);
    let axis = -1;
    for (let a = 0; a < model.axes.length; a++) if (Math.abs(axisX(a) - x) <= GRAB) axis = a;
    return { axis, at: Math.max(0, Math.min(1, at)) };
  };

  const down = (event: PointerEvent) => {
    const { axis, at } = locate(event);
    if (axis < 0) return;
    canvas.current!.setPointerCapture(event.pointerId);
    setDragging({ axis, from: at, to: at });
  };
  const move = (event: PointerEvent) => {
    if (!dragging) {
      canvas.current!.classList.toggle('on-axis', locate(event).axis >= 0);
      return;
    }
    setDragging({ ...dragging, to: locate(event).at });
  };
  const up = () => {
    if (!dragging) return;
    const axis = model.axes[dragging.axis]!;
    const next: Brushes = new Map(brushes);
    const span = Math.abs(dragging.to - dragging.from) * (HEIGHT - MARGIN.top - MARGIN.bottom);
    if (span < 4) next.delete(axis.name);
    else next.set(axis.name, brushBetween(axis, dragging.from, dragging.to, significant));
    setDragging(null);
    setParams({ pc: formatBrushes(next) });
  };

  if (model.axes.length === 0) return <p class="muted">No hyperparameters to compare.</p>;
  return (
    <figure class="experiment-chart">
      <div class="pc-frame">
        <canvas
          ref={canvas}
          class="pc-canvas"
          onPointerDown={down}
          onPointerMove={move}
          onPointerUp={up}
          onPointerCancel={() => setDragging(null)}
        />
      </div>
      <figcaption class="chart-caption">
        <span>
          {brushes.size ? `${matching} of ${model.count} trials in the brushed ranges` : `${model.count} trials`}
          {objective ? ` · colour: ${objective.metric} (brighter is better)` : ''}
        </span>
        <span class="muted">Drag along an axis to brush a range; click an axis to clear its brush.</span>
        {brushes.size ? (
          <button type="button" onClick={() => setParams({ pc: null })}>
            Clear brushes
          </button>
        ) : null}
      </figcaption>
    </figure>
  );
}

/** 3 significant digits: a brush's bounds read well in the URL. */
function significant(value: number): number {
  return Number(value.toPrecision(3));
}

function axisPosition(a: number, count: number, width: number): number {
  const inner = width - MARGIN.left - MARGIN.right;
  return count <= 1 ? MARGIN.left + inner / 2 : MARGIN.left + (a / (count - 1)) * inner;
}

/** Paints the chart; returns how many trials pass the brushes. */
function paint(
  canvas: HTMLCanvasElement,
  s: { model: Model; brushes: Brushes; dragging: { axis: number; from: number; to: number } | null; width: number },
  painter: Painter,
): number {
  const { model, width } = s;
  const ratio = devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(HEIGHT * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT}px`;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, HEIGHT);
  const n = model.axes.length;
  const xs = model.axes.map((_, a) => axisPosition(a, n, width));
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (at: number) => MARGIN.top + (1 - at) * plotHeight;

  // Brushes being drawn count as set, so the lines filter while the pointer moves.
  const brushes: Brushes = new Map(s.brushes);
  if (s.dragging) {
    const axis = model.axes[s.dragging.axis]!;
    brushes.set(axis.name, brushBetween(axis, s.dragging.from, s.dragging.to));
  }
  const brushed = [...brushes].flatMap(([name, brush]) => {
    const a = model.axes.findIndex((axis) => axis.name === name);
    return a >= 0 ? [{ a, brush }] : [];
  });
  // Which rows pass the brushes: all of them again when the brushes changed, else the changed rows.
  const brushKey = JSON.stringify(brushed);
  const passes = (i: number) => brushed.every(({ a, brush }) => inBrush(brush, model.value(i, a)));
  const dirty = painter.dirty;
  if (brushKey !== painter.brushKey || dirty === 'all') {
    painter.passes = Array.from({ length: model.count }, (_, i) => passes(i));
    painter.brushKey = brushKey;
  } else {
    painter.passes.length = model.count;
    for (const i of dirty) if (i < model.count) painter.passes[i] = passes(i);
  }
  let matching = 0;
  for (const pass of painter.passes) if (pass) matching++;
  const alpha = Math.max(0.06, Math.min(0.8, 60 / Math.max(1, matching)));

  if (model.count >= DENSITY_FROM) {
    drawDensity(ctx, model, painter, width, ratio, xs, plotHeight, steppedAlpha(matching));
  } else {
    painter.density = null;
    drawStrokes(ctx, model, painter.passes, xs, y, alpha);
  }
  painter.dirty = new Set();
  ctx.globalAlpha = 1;

  // Axes, their ticks and names, and brushes on top.
  const fg = cssVar('--fg');
  const soft = cssVar('--fg-soft');
  ctx.font = '11px system-ui, sans-serif';
  model.axes.forEach((axis, a) => {
    const x = xs[a]!;
    ctx.strokeStyle = soft;
    ctx.beginPath();
    ctx.moveTo(x, MARGIN.top);
    ctx.lineTo(x, MARGIN.top + plotHeight);
    ctx.stroke();
    ctx.fillStyle = fg;
    ctx.textAlign = 'center';
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.fillText(clip(axis.name, 18), x, MARGIN.top - 16);
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = soft;
    if (axis.kind === 'log') ctx.fillText('log', x, MARGIN.top - 5);
    ctx.textAlign = 'left';
    for (const tick of ticks(axis, 6)) {
      ctx.fillRect(x - 3, y(tick.at), 6, 1);
      ctx.fillStyle = fg;
      ctx.fillText(clip(tick.label, 12), x + 5, y(tick.at) + 3);
      ctx.fillStyle = soft;
    }
    const brush = brushes.get(axis.name);
    if (brush) drawBrush(ctx, axis, brush, x, y);
  });
  return matching;
}

/** One line's opacity in the density image, stepped (four steps per doubling) so a change rarely recomposes every pixel. */
function steppedAlpha(matching: number): number {
  const stepped = 2 ** (Math.ceil(Math.log2(Math.max(1, matching)) * 4) / 4);
  return Math.max(0.06, Math.min(0.8, 60 / stepped));
}

function layerOf(pass: boolean, bucket: number): number {
  return !pass ? FADED : bucket < 0 ? NO_OBJECTIVE : FIRST_BUCKET + bucket;
}

/** A few hundred lines: anti-aliased strokes, one path per colour. */
function drawStrokes(
  ctx: CanvasRenderingContext2D,
  model: Model,
  passes: boolean[],
  xs: number[],
  y: (at: number) => number,
  alpha: number,
): void {
  const n = model.axes.length;
  const groups: number[][] = Array.from({ length: FIRST_BUCKET + RAMP_SIZE }, () => []);
  model.rows.forEach((row, i) => groups[layerOf(passes[i]!, row.bucket)]!.push(i));
  const stroke = (members: number[], colour: string, opacity: number) => {
    if (!members.length) return;
    ctx.strokeStyle = colour;
    ctx.globalAlpha = opacity;
    ctx.beginPath();
    for (const i of members) {
      const at = model.rows[i]!.positions;
      let open = false;
      for (let a = 0; a < n; a++) {
        if (Number.isNaN(at[a]!)) {
          open = false;
          continue;
        }
        if (open) ctx.lineTo(xs[a]!, y(at[a]!));
        else ctx.moveTo(xs[a]!, y(at[a]!));
        open = true;
      }
    }
    ctx.stroke();
  };
  ctx.lineWidth = 1;
  stroke(groups[FADED]!, cssVar('--border'), Math.min(0.5, alpha));
  stroke(groups[NO_OBJECTIVE]!, cssVar('--muted'), alpha);
  for (let b = 0; b < RAMP_SIZE; b++) stroke(groups[FIRST_BUCKET + b]!, rampColor(b), alpha);
}

/**
 * Many lines: the density image, patched with the rows changed since the last paint; rebuilt when
 * the size, the axes, the brushes or most rows changed.
 */
function drawDensity(
  ctx: CanvasRenderingContext2D,
  model: Model,
  painter: Painter,
  width: number,
  ratio: number,
  xs: number[],
  plotHeight: number,
  opacity: number,
): void {
  const n = model.axes.length;
  const deviceWidth = Math.round(width * ratio);
  const deviceHeight = Math.round(HEIGHT * ratio);
  const projection = {
    ax: n > 1 ? (ratio * (xs[n - 1]! - xs[0]!)) / (n - 1) : 0,
    bx: ratio * xs[0]!,
    ay: -ratio * plotHeight,
    by: ratio * (MARGIN.top + plotHeight),
  };
  const colours: [number, number, number][] = [
    rgbOf(cssVar('--border')),
    rgbOf(cssVar('--muted')),
    ...Array.from({ length: RAMP_SIZE }, (_, b) => rgbOf(rampColor(b))),
  ];
  const steps = Array.from({ length: n }, (_, a) => a);
  const lineOf = (i: number): Curve => {
    const positions = model.rows[i]!.positions;
    const line = painter.lines[i];
    if (line && line.values === positions) return line;
    return (painter.lines[i] = { steps, values: positions });
  };
  let density = painter.density;
  const p = density?.projection;
  const fits =
    density &&
    painter.dirty !== 'all' &&
    painter.densityBrushKey === painter.brushKey &&
    density.width === deviceWidth &&
    density.height === deviceHeight &&
    p!.ax === projection.ax &&
    p!.bx === projection.bx &&
    p!.ay === projection.ay &&
    p!.by === projection.by;
  if (!fits) {
    density = painter.density = new CurveDensity(deviceWidth, deviceHeight, projection, colours, opacity);
    painter.lines = [];
    for (let i = 0; i < model.count; i++) density.set(i, lineOf(i), layerOf(painter.passes[i]!, model.rows[i]!.bucket));
    painter.canvas ??= document.createElement('canvas');
    painter.canvas.width = deviceWidth;
    painter.canvas.height = deviceHeight;
    painter.image = new ImageData(density.pixels, deviceWidth, deviceHeight);
  } else {
    for (const i of painter.dirty as Set<number>)
      if (i < model.count) density!.set(i, lineOf(i), layerOf(painter.passes[i]!, model.rows[i]!.bucket));
    density!.truncate(model.count);
    painter.lines.length = Math.min(painter.lines.length, model.count);
  }
  painter.densityBrushKey = painter.brushKey;
  density!.setColours(colours);
  density!.setOpacity(opacity);
  const changed = density!.compose();
  if (changed)
    painter
      .canvas!.getContext('2d')!
      .putImageData(painter.image!, 0, 0, 0, changed.top, deviceWidth, changed.bottom - changed.top);
  ctx.drawImage(painter.canvas!, 0, 0, width, HEIGHT);
}

function drawBrush(
  ctx: CanvasRenderingContext2D,
  axis: Axis,
  brush: Brush,
  x: number,
  y: (at: number) => number,
): void {
  ctx.fillStyle = cssVar('--accent');
  ctx.globalAlpha = 0.3;
  const spans: [number, number][] = [];
  if (brush.kind === 'range') {
    const low = position(axis, brush.min);
    const high = position(axis, brush.max);
    if (axis.kind !== 'categorical') spans.push([clamp(low ?? 0), clamp(high ?? 1)]);
  } else {
    for (const value of brush.values) {
      const at = position(axis, value);
      if (at !== null) spans.push([at - 0.02, at + 0.02]);
    }
  }
  for (const [low, high] of spans) ctx.fillRect(x - 7, y(high), 14, Math.max(2, y(low) - y(high)));
  ctx.globalAlpha = 1;
}

const clamp = (v: number) => Math.max(0, Math.min(1, v));
const clip = (text: string, most: number) => (text.length > most ? `${text.slice(0, most - 1)}…` : text);
