// The learning-curves chart's data, kept up to date change by change: each trial's display curve,
// the envelope uPlot ranges its y axis on, and (once the chart has a projection) the density image.
// A live change costs the curves that changed: the envelope takes their points in, the density
// subtracts their old pixels and adds the new ones. What cannot be patched (the extent's x range
// moved, so every bin moves; or a removed point may have been a bin's extreme) marks the envelope
// `stale`: still a superset of the truth, rebuilt by the chart at most a few times a second.
// Changes are told by identity (logic/changed-slots.ts): a changed trial is a new object.
import { changedSlots } from './changed-slots.js';
import { curveExtent, envelope, type Envelope, type Projection } from './curve-set.js';
import type { Curve } from './downsample.js';
import { CurveDensity } from './line-density.js';

export interface LiveCurveOptions<T> {
  /** The item's curve as it comes (compared by identity: the same curve object is not downsampled again). */
  curveOf(item: T): Curve | null;
  /** The curve as drawn (downsampled). */
  display(curve: Curve): Curve;
  /** The density layer (colour) the item's curve is counted in. */
  layerOf(item: T): number;
  /** Bins of the envelope. */
  bins: number;
}

export class LiveCurveSet<T> {
  items: readonly T[] = [];
  /** Display curves by slot (same order as `items`). */
  readonly curves: (Curve | null)[] = [];
  /** How many slots have a curve. */
  drawn = 0;
  /** x, low, high: patched in place, replaced by a rebuild. */
  envelope: Envelope = { x: [], low: [], high: [] };
  /** The envelope needs `rebuild()`: it is still a superset of every curve's points, but may be too wide or misplaced in x. */
  stale = false;
  /** The density image, for the projection it was built for; null until `buildDensity`. */
  density: CurveDensity | null = null;
  private readonly sources: (Curve | null)[] = [];
  private xMin = Infinity;
  private xMax = -Infinity;

  constructor(private readonly options: LiveCurveOptions<T>) {}

  /**
   * Takes the next list of items; returns whether the envelope's values changed (the chart then
   * gives uPlot its arrays again). Past a quarter of the items changed, everything is rebuilt.
   */
  update(next: readonly T[]): boolean {
    const changed = changedSlots(this.items, next, Math.max(64, next.length / 4));
    this.items = next;
    // Nothing to patch yet (the first curves) or most things changed: build it all.
    if (changed === null || (!this.envelope.x.length && changed.length)) {
      for (const i of changed ?? next.keys()) if (i < next.length) this.take(i, next[i]!);
      this.trim(next.length);
      this.rebuild();
      return true;
    }
    let envelopeChanged = false;
    for (const i of changed) {
      if (i >= next.length) continue;
      const before = this.curves[i] ?? null;
      const after = this.take(i, next[i]!);
      if (after === before) continue;
      if (before && !extends_(after, before) && this.mayShrink(before)) this.stale = true;
      if (after && this.widen(after)) envelopeChanged = true;
    }
    if (this.trim(next.length)) this.stale = true;
    return envelopeChanged;
  }

  /** The envelope and extent from every curve again (what `stale` asks for). */
  rebuild(): void {
    const extent = curveExtent(this.curves);
    this.xMin = extent?.xMin ?? Infinity;
    this.xMax = extent?.xMax ?? -Infinity;
    this.envelope = extent ? envelope(this.curves, extent, this.options.bins) : { x: [], low: [], high: [] };
    this.stale = false;
  }

  /** A density image of every curve for this size and projection (replacing the one there was). */
  buildDensity(
    width: number,
    height: number,
    projection: Projection,
    colours: [number, number, number][],
    opacity: number,
  ): CurveDensity {
    const density = new CurveDensity(width, height, projection, colours, opacity);
    this.curves.forEach((curve, i) => density.set(i, curve, this.options.layerOf(this.items[i]!)));
    this.density = density;
    return density;
  }

  /** Stores slot i's item; returns its display curve. */
  private take(i: number, item: T): Curve | null {
    const source = this.options.curveOf(item);
    const before = this.curves[i] ?? null;
    const curve =
      source === (this.sources[i] ?? null) && i < this.curves.length
        ? before
        : source
          ? this.options.display(source)
          : null;
    this.drawn += (curve ? 1 : 0) - (before ? 1 : 0);
    this.sources[i] = source;
    this.curves[i] = curve;
    this.density?.set(i, curve, this.options.layerOf(item));
    return curve;
  }

  /** Drops slots from `length` on; whether any had a curve. */
  private trim(length: number): boolean {
    let hadCurve = false;
    for (let i = length; i < this.curves.length; i++) {
      if (this.curves[i]) {
        hadCurve = true;
        this.drawn--;
      }
    }
    this.curves.length = Math.min(this.curves.length, length);
    this.sources.length = Math.min(this.sources.length, length);
    this.density?.truncate(length);
    return hadCurve;
  }

  private binOf(x: number): number {
    const count = this.envelope.x.length;
    const width = this.xMax - this.xMin;
    if (!(width > 0)) return 0;
    return Math.max(0, Math.min(count - 1, Math.floor(((x - this.xMin) / width) * count)));
  }

  /** Takes a curve's points into the envelope; whether a bin's value changed. A point outside the extent marks it stale. */
  private widen(curve: Curve): boolean {
    const { low, high } = this.envelope;
    if (!low.length) {
      this.stale = true;
      return false;
    }
    let changed = false;
    for (let k = 0; k < curve.steps.length; k++) {
      const x = curve.steps[k]!;
      const y = curve.values[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < this.xMin || x > this.xMax) this.stale = true;
      const bin = this.binOf(x);
      if (low[bin] === null || y < low[bin]!) {
        low[bin] = y;
        changed = true;
      }
      if (high[bin] === null || y > high[bin]!) {
        high[bin] = y;
        changed = true;
      }
    }
    return changed;
  }

  /** Whether taking this curve away could narrow the envelope: one of its points is a bin's extreme or on the extent's edge. */
  private mayShrink(curve: Curve): boolean {
    const { low, high } = this.envelope;
    for (let k = 0; k < curve.steps.length; k++) {
      const x = curve.steps[k]!;
      const y = curve.values[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x <= this.xMin || x >= this.xMax) return true;
      const bin = this.binOf(x);
      if (y === low[bin] || y === high[bin]) return true;
    }
    return false;
  }
}

/** Whether `after` holds every point of `before` at the same place (a curve that grew): nothing of `before` goes away. */
function extends_(after: Curve | null, before: Curve): boolean {
  if (!after || after.steps.length < before.steps.length) return false;
  for (let k = 0; k < before.steps.length; k++) {
    if (!Object.is(after.steps[k], before.steps[k]) || !Object.is(after.values[k], before.values[k])) return false;
  }
  return true;
}
