import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { inferAxis, position, ticks, type Axis } from '../../../logic/axis-scale';
import { brushBetween, formatBrushes, inBrush, parseBrushes, type Brush, type Brushes } from '../../../logic/pc-brush';
import { param, setParams } from '../../../lib/route';
import { theme } from '../../../lib/theme';
import type { Trial } from '../trial';
import { cssVar, rampBucket, rampColor, RAMP_SIZE } from './colors';
import { useFrameDraw } from './frame-draw';
import type { Objective } from './objective';
import './charts.css';

const HEIGHT = 380;
const MARGIN = { top: 34, bottom: 26, left: 50, right: 70 };
/** How near (CSS pixels) to an axis a drag starts a brush on it. */
const GRAB = 14;

interface Model {
  axes: Axis[];
  /** Row-major positions (0..1, NaN when missing): trial i on axis a at i * axes.length + a. */
  at: Float64Array;
  /** Colour bucket per trial (-1: no objective yet). */
  bucket: Int8Array;
  /** The raw value of trial i on axis a, for brushes (which are in data units). */
  value: (i: number, a: number) => unknown;
  count: number;
}

/**
 * Hyperparameters to objective: one vertical axis per parameter and a last one for the objective,
 * one polyline per trial coloured by its objective (best brightest). Drawn on a canvas, one path
 * per colour, at most once per frame. Dragging along an axis brushes a range; trials outside any
 * brush fade. Brushes live in the URL (`?pc=lr:0.001..0.01`); a click on an axis clears its brush.
 */
export function ParallelCoordinates({ trials, objective, parameters }: { trials: readonly Trial[]; objective: Objective; parameters: string[] }) {
  const model = useMemo(() => buildModel(trials, objective, parameters), [trials, objective, parameters]);
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
    if (canvas.current) setMatching(paint(canvas.current, state.current));
  });
  useEffect(draw, [model, brushes, dragging, width, themeName]);

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

function buildModel(trials: readonly Trial[], objective: Objective, parameters: string[]): Model {
  const read: ((t: Trial) => unknown)[] = parameters.map((name) => (t: Trial) => t.hyperparameters[name]);
  const names = [...parameters];
  if (objective) {
    read.push((t) => t.objectiveValue);
    names.push(objective.metric);
  }
  const axes = names.map((name, a) => inferAxis(name, trials.map(read[a]!)));
  const at = new Float64Array(trials.length * axes.length);
  const bucket = new Int8Array(trials.length);
  const objectiveAxis = objective ? axes[axes.length - 1] : undefined;
  trials.forEach((trial, i) => {
    axes.forEach((axis, a) => {
      at[i * axes.length + a] = position(axis, read[a]!(trial)) ?? Number.NaN;
    });
    const o = objectiveAxis ? position(objectiveAxis, trial.objectiveValue) : null;
    bucket[i] = o === null ? -1 : rampBucket(objective!.direction === 'MAXIMIZE' ? o : 1 - o);
  });
  return { axes, at, bucket, value: (i, a) => read[a]!(trials[i]!), count: trials.length };
}

/** Paints the chart; returns how many trials pass the brushes. */
function paint(canvas: HTMLCanvasElement, s: { model: Model; brushes: Brushes; dragging: { axis: number; from: number; to: number } | null; width: number }): number {
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

  // Group trials into paths: faded (outside a brush), one per objective colour, and no objective yet.
  const groups: number[][] = Array.from({ length: RAMP_SIZE + 2 }, () => []);
  let matching = 0;
  for (let i = 0; i < model.count; i++) {
    const passes = brushed.every(({ a, brush }) => inBrush(brush, model.value(i, a)));
    if (!passes) groups[RAMP_SIZE + 1]!.push(i);
    else {
      matching++;
      groups[model.bucket[i]! < 0 ? RAMP_SIZE : model.bucket[i]!]!.push(i);
    }
  }
  const alpha = Math.max(0.06, Math.min(0.8, 60 / Math.max(1, matching)));
  const stroke = (members: number[], colour: string, opacity: number) => {
    if (!members.length) return;
    ctx.strokeStyle = colour;
    ctx.globalAlpha = opacity;
    for (let from = 0; from < members.length; from += 128) {
      ctx.beginPath();
      for (let k = from; k < Math.min(members.length, from + 128); k++) {
        const base = members[k]! * n;
        let open = false;
        for (let a = 0; a < n; a++) {
          const at = model.at[base + a]!;
          if (Number.isNaN(at)) {
            open = false;
            continue;
          }
          if (open) ctx.lineTo(xs[a]!, y(at));
          else ctx.moveTo(xs[a]!, y(at));
          open = true;
        }
      }
      ctx.stroke();
    }
  };
  ctx.lineWidth = 1;
  stroke(groups[RAMP_SIZE + 1]!, cssVar('--border'), Math.min(0.5, alpha));
  stroke(groups[RAMP_SIZE]!, cssVar('--muted'), alpha);
  for (let b = 0; b < RAMP_SIZE; b++) stroke(groups[b]!, rampColor(b), alpha);
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

function drawBrush(ctx: CanvasRenderingContext2D, axis: Axis, brush: Brush, x: number, y: (at: number) => number): void {
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
