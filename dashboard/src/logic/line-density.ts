// Thousands of curves as a density image: each curve is stepped pixel by pixel into a count per
// pixel, then counts become opacity (1 - (1 - a)^count: what `count` strokes of opacity `a` would
// give). Canvas strokes of a million segments cost about a second to rasterize on a CPU; this costs
// tens of milliseconds, and shows where curves crowd. Pure: the chart turns the counts into pixels.
// Counts are additive, so a live change costs one curve, not all of them: `CurveDensity` subtracts a
// changed curve's old pixels, adds its new ones and recomposes only the pixels they touched.
import type { Curve } from './downsample.js';
import type { Projection } from './curve-set.js';

/** Counts per pixel: Uint32Array in the chart, so counts stay exact when curves are subtracted again. */
type Counts = Uint16Array | Uint32Array;

/**
 * Adds `delta` (1, or -1 to take a curve away again) to every pixel the polyline crosses (no
 * anti-aliasing); points off the grid are clipped. `touched` hears each pixel changed.
 */
export function accumulateCurve(
  counts: Counts,
  width: number,
  height: number,
  curve: Curve,
  p: Projection,
  delta = 1,
  touched?: (at: number) => void,
): void {
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
    segment(counts, width, height, x0, y0, x1, y1, k > 1, delta, touched);
    x0 = x1;
    y0 = y1;
  }
}

/** One sample per pixel along the longer axis; `skipFirst` avoids counting a shared vertex twice. */
function segment(
  counts: Counts,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  skipFirst: boolean,
  delta: number,
  touched: ((at: number) => void) | undefined,
): void {
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
    counts[at] = counts[at]! + delta;
    touched?.(at);
  }
}

/**
 * Composites layers of counts into RGBA pixels (premultiplied-free, straight alpha), later layers
 * over earlier ones. `opacity` is one curve's opacity.
 */
export function compose(layers: Layer[], pixels: Uint8ClampedArray, opacity: number): void {
  const alphaOf = alphaTable(opacity);
  const size = pixels.length / 4;
  for (let i = 0; i < size; i++) composePixel(layers, pixels, i, alphaOf);
}

type Rgb = [number, number, number];
interface Layer {
  counts: Counts;
  rgb: Rgb;
}

/** Opacity of a pixel crossed n times, tabulated for the small counts that are most pixels. */
function alphaTable(opacity: number): (n: number) => number {
  const table = Float32Array.from({ length: 256 }, (_, n) => 1 - (1 - opacity) ** n);
  return (n) => (n < 256 ? table[n]! : 1 - (1 - opacity) ** n);
}

function composePixel(layers: Layer[], pixels: Uint8ClampedArray, i: number, alphaOf: (n: number) => number): void {
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

/**
 * A density image kept up to date curve by curve: one count layer per colour (later layers drawn
 * over earlier ones) for one projection and size. `set` moves a curve in (or out, or between layers)
 * by adding and subtracting counts; `compose` then recomposes only the pixels changed since the last
 * call. Rebuild it (a new one) when the projection or size changes.
 */
export class CurveDensity {
  readonly pixels: Uint8ClampedArray<ArrayBuffer>;
  private readonly layers: { counts: Uint32Array; rgb: Rgb }[];
  private readonly drawn: ({ curve: Curve; layer: number } | undefined)[] = [];
  private readonly marked: Uint8Array;
  private touched: number[] = [];
  /** Everything needs composing (colours or opacity changed, or nothing composed yet). */
  private all = true;
  private alphaOf: (n: number) => number;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly projection: Projection,
    colours: Rgb[],
    private opacity: number,
  ) {
    this.pixels = new Uint8ClampedArray(width * height * 4);
    this.marked = new Uint8Array(width * height);
    this.layers = colours.map((rgb) => ({ counts: new Uint32Array(width * height), rgb }));
    this.alphaOf = alphaTable(opacity);
  }

  private readonly mark = (at: number): void => {
    if (this.marked[at]) return;
    this.marked[at] = 1;
    this.touched.push(at);
  };

  /** Slot `slot` now shows `curve` in `layer` (null: nothing). The same curve in the same layer costs nothing. */
  set(slot: number, curve: Curve | null, layer: number): void {
    const before = this.drawn[slot];
    if (before && before.curve === curve && before.layer === layer) return;
    const { width, height, projection } = this;
    // While every pixel is to be composed anyway (a new image), no pixel needs marking.
    const mark = this.all ? undefined : this.mark;
    if (before) accumulateCurve(this.layers[before.layer]!.counts, width, height, before.curve, projection, -1, mark);
    if (curve) accumulateCurve(this.layers[layer]!.counts, width, height, curve, projection, 1, mark);
    this.drawn[slot] = curve ? { curve, layer } : undefined;
  }

  /** Slots from `length` on are gone. */
  truncate(length: number): void {
    for (let slot = length; slot < this.drawn.length; slot++) this.set(slot, null, 0);
    this.drawn.length = Math.min(this.drawn.length, length);
  }

  setOpacity(opacity: number): void {
    if (opacity === this.opacity) return;
    this.opacity = opacity;
    this.alphaOf = alphaTable(opacity);
    this.all = true;
  }

  setColours(colours: Rgb[]): void {
    colours.forEach((rgb, i) => {
      const layer = this.layers[i];
      if (layer && layer.rgb.some((c, k) => c !== rgb[k])) {
        layer.rgb = rgb;
        this.all = true;
      }
    });
  }

  /**
   * Brings `pixels` up to date. Returns the rows changed (to copy to a canvas), or null when
   * nothing did.
   */
  compose(): { top: number; bottom: number } | null {
    if (this.all) {
      compose(this.layers, this.pixels, this.opacity);
      this.all = false;
      for (const at of this.touched) this.marked[at] = 0;
      this.touched = [];
      return { top: 0, bottom: this.height };
    }
    if (!this.touched.length) return null;
    let top = Infinity;
    let bottom = -Infinity;
    for (const at of this.touched) {
      composePixel(this.layers, this.pixels, at, this.alphaOf);
      this.marked[at] = 0;
      const row = Math.floor(at / this.width);
      if (row < top) top = row;
      if (row >= bottom) bottom = row + 1;
    }
    this.touched = [];
    return { top, bottom };
  }
}
