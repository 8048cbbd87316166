// Many learning curves on one chart: their common extent, an envelope that lets the chart's y axis
// follow a horizontal zoom, and which curve the pointer is nearest to. Pure, so it is tested in node.
import type { Curve } from './downsample.js';

export interface Extent {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** The smallest box holding every finite point; null when there is none. */
export function curveExtent(curves: readonly (Curve | null)[]): Extent | null {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const curve of curves) {
    if (!curve) continue;
    for (let i = 0; i < curve.steps.length; i++) {
      const x = curve.steps[i]!;
      const y = curve.values[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  return xMin <= xMax ? { xMin, xMax, yMin, yMax } : null;
}

export interface Envelope {
  /** Bin centres (ascending). */
  x: number[];
  low: (number | null)[];
  high: (number | null)[];
}

/**
 * The lowest and highest value of all curves in each of `bins` equal step ranges (null where no point
 * falls). Given to uPlot as two invisible series, it lets uPlot range the y axis to what is visible
 * after a horizontal zoom, while the curves themselves are drawn by hand.
 */
export function envelope(curves: readonly (Curve | null)[], extent: Extent, bins: number): Envelope {
  const width = extent.xMax - extent.xMin;
  const count = width > 0 ? Math.max(1, bins) : 1;
  const low = new Array<number | null>(count).fill(null);
  const high = new Array<number | null>(count).fill(null);
  for (const curve of curves) {
    if (!curve) continue;
    for (let i = 0; i < curve.steps.length; i++) {
      const x = curve.steps[i]!;
      const y = curve.values[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const bin = width > 0 ? Math.min(count - 1, Math.floor(((x - extent.xMin) / width) * count)) : 0;
      if (low[bin] === null || y < low[bin]!) low[bin] = y;
      if (high[bin] === null || y > high[bin]!) high[bin] = y;
    }
  }
  const x = Array.from({ length: count }, (_, b) =>
    width > 0 ? extent.xMin + ((b + 0.5) / count) * width : extent.xMin,
  );
  if (width > 0) {
    // The outer bins sit on the extent's edges, so an unzoomed chart spans every step.
    x[0] = extent.xMin;
    x[count - 1] = extent.xMax;
  }
  return { x, low, high };
}

/** A linear map from data to pixels: px = ax * step + bx, py = ay * value + by. */
export interface Projection {
  ax: number;
  bx: number;
  ay: number;
  by: number;
}

/**
 * Index of the curve passing nearest (in pixels) to (x, y), if one passes within `radius` pixels.
 * A scan of every segment: 10,000 curves of 64 points take a few milliseconds, and the chart calls
 * it at most once per animation frame.
 */
export function nearestCurve(
  curves: readonly (Curve | null)[],
  p: Projection,
  x: number,
  y: number,
  radius: number,
): number | null {
  let best: number | null = null;
  let bestDistance = radius * radius;
  for (let c = 0; c < curves.length; c++) {
    const curve = curves[c];
    if (!curve || curve.steps.length === 0) continue;
    let x0 = p.ax * curve.steps[0]! + p.bx;
    let y0 = p.ay * curve.values[0]! + p.by;
    if (curve.steps.length === 1) {
      const d = (x0 - x) ** 2 + (y0 - y) ** 2;
      if (d <= bestDistance) [best, bestDistance] = [c, d];
      continue;
    }
    for (let i = 1; i < curve.steps.length; i++) {
      const x1 = p.ax * curve.steps[i]! + p.bx;
      const y1 = p.ay * curve.values[i]! + p.by;
      const d = segmentDistance2(x, y, x0, y0, x1, y1);
      if (d <= bestDistance) [best, bestDistance] = [c, d];
      x0 = x1;
      y0 = y1;
    }
  }
  return best;
}

/** Squared distance from (x, y) to the segment (x0, y0)–(x1, y1). */
function segmentDistance2(x: number, y: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length2 = dx * dx + dy * dy;
  let t = length2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / length2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = x0 + t * dx - x;
  const ey = y0 + t * dy - y;
  const d = ex * ex + ey * ey;
  return Number.isNaN(d) ? Infinity : d;
}
