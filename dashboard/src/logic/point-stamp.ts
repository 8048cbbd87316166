// Thousands of scatter points drawn as pixels: each point stamps a small disc of one colour into an
// RGBA buffer, later stamps over earlier ones. Filling 10,000 canvas arcs costs this machine's CPU
// 130-180 ms a frame; stamping them costs about a millisecond, so a live chart can redraw every point
// each frame. Pure: the chart puts the buffer on a canvas.
import type { Projection } from './curve-set.js';

/** Pixel offsets (dx, dy pairs) of a disc `size` pixels across, centred on a pixel. */
export function discMask(size: number): Int16Array {
  // Pixel centres within half a pixel of the circle through the outermost ones (as a midpoint circle draws it).
  const reach = Math.max(0, Math.round((size - 1) / 2));
  const offsets: number[] = [];
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) if (dx * dx + dy * dy <= reach * reach + reach / 2) offsets.push(dx, dy);
  }
  return Int16Array.from(offsets);
}

/** An opaque colour as one 32-bit RGBA pixel (byte order r, g, b, a, as ImageData holds it, on a little-endian machine). */
export function packColour([r, g, b]: [number, number, number]): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/**
 * Stamps point k at (xs[k], ys[k]) through the projection, for every k with a finite y; stamps off
 * the buffer are clipped. `pixels` is the RGBA buffer seen as 32-bit pixels, `width` wide.
 */
export function stampPoints(
  pixels: Uint32Array,
  width: number,
  height: number,
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null>,
  p: Projection,
  colour: number,
  mask: Int16Array,
): void {
  for (let k = 0; k < ys.length; k++) {
    const value = ys[k];
    if (value === null || value === undefined || !Number.isFinite(value)) continue;
    const cx = Math.round(p.ax * xs[k]! + p.bx);
    const cy = Math.round(p.ay * value + p.by);
    for (let m = 0; m < mask.length; m += 2) {
      const x = cx + mask[m]!;
      const y = cy + mask[m + 1]!;
      if (x < 0 || y < 0 || x >= width || y >= height) continue;
      pixels[y * width + x] = colour;
    }
  }
}
