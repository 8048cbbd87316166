// Thousands of curves as a density image: each curve is stepped pixel by pixel into a count per
// pixel, then counts become opacity (1 - (1 - a)^count: what `count` strokes of opacity `a` would
// give). Canvas strokes of a million segments cost about a second to rasterize on a CPU; this costs
// tens of milliseconds, and shows where curves crowd. Pure: the chart turns the counts into pixels.
import type { Curve } from './downsample.js';
import type { Projection } from './curve-set.js';

/** Adds one to every pixel the polyline crosses (no anti-aliasing); points off the grid are clipped. */
export function accumulateCurve(counts: Uint16Array, width: number, height: number, curve: Curve, p: Projection): void {
  let x0 = NaN;
  let y0 = NaN;
  for (let k = 0; k < curve.steps.length; k++) {
    const value = curve.values[k]!;
    const x1 = p.ax * curve.steps[k]! + p.bx;
    const y1 = p.ay * value + p.by;
    if (!Number.isFinite(x1) || !Number.isFinite(y1)) {
      x0 = NaN;
      continue;
    }
    if (Number.isNaN(x0)) {
      x0 = x1;
      y0 = y1;
      continue;
    }
    segment(counts, width, height, x0, y0, x1, y1, k > 1);
    x0 = x1;
    y0 = y1;
  }
}

/** One sample per pixel along the longer axis; `skipFirst` avoids counting a shared vertex twice. */
function segment(counts: Uint16Array, width: number, height: number, x0: number, y0: number, x1: number, y1: number, skipFirst: boolean): void {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const n = Math.max(1, Math.ceil(Math.max(Math.abs(dx), Math.abs(dy))));
  const sx = dx / n;
  const sy = dy / n;
  const from = skipFirst ? 1 : 0;
  let fx = x0 + sx * from;
  let fy = y0 + sy * from;
  for (let i = from; i <= n; i++, fx += sx, fy += sy) {
    const x = Math.floor(fx);
    const y = Math.floor(fy);
    if (x < 0 || y < 0 || x >= width || y >= height) continue;
    const at = y * width + x;
    if (counts[at]! < 65535) counts[at]!++;
  }
}

/**
 * Composites layers of counts into RGBA pixels (premultiplied-free, straight alpha), later layers
 * over earlier ones. `opacity` is one curve's opacity.
 */
export function compose(
  layers: { counts: Uint16Array; rgb: [number, number, number] }[],
  pixels: Uint8ClampedArray,
  opacity: number,
): void {
  // Opacity of a pixel crossed n times, tabulated for the small counts that are most pixels.
  const table = Float32Array.from({ length: 256 }, (_, n) => 1 - (1 - opacity) ** n);
  const alphaOf = (n: number) => (n < 256 ? table[n]! : 1 - (1 - opacity) ** n);
  const size = pixels.length / 4;
  for (let i = 0; i < size; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 0;
    for (const layer of layers) {
      const n = layer.counts[i]!;
      if (n === 0) continue;
      const la = alphaOf(n);
      // "over": the new layer on top of what is there.
      const out = la + a * (1 - la);
      r = (layer.rgb[0] * la + r * a * (1 - la)) / out;
      g = (layer.rgb[1] * la + g * a * (1 - la)) / out;
      b = (layer.rgb[2] * la + b * a * (1 - la)) / out;
      a = out;
    }
    const o = i * 4;
    pixels[o] = r;
    pixels[o + 1] = g;
    pixels[o + 2] = b;
    pixels[o + 3] = a * 255;
  }
}
