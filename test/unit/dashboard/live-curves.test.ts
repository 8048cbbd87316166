import { describe, expect, it } from 'vitest';
import { curveExtent, envelope } from '../../../dashboard/src/logic/curve-set.js';
import type { Curve } from '../../../dashboard/src/logic/downsample.js';
import { minMaxDownsample } from '../../../dashboard/src/logic/downsample.js';
import { CurveDensity } from '../../../dashboard/src/logic/line-density.js';
import { LiveCurveSet } from '../../../dashboard/src/logic/live-curves.js';

interface Item {
  id: number;
  layer: number;
  curve: Curve | null;
}

const COLOURS: [number, number, number][] = [
  [200, 0, 0],
  [0, 200, 0],
  [0, 0, 200],
];
const projection = { ax: 2, bx: 1, ay: -10, by: 45 };

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function randomCurve(r: () => number, length: number): Curve {
  return { steps: Array.from({ length }, (_, k) => k * 2), values: Array.from({ length }, () => r() * 4) };
}

/** The first index where two pixel arrays differ, -1 when they are equal (cheaper to report than a deep diff). */
function firstDifference(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function freshDensity(items: readonly Item[], display: (c: Curve) => Curve, opacity: number): CurveDensity {
  const density = new CurveDensity(60, 50, projection, COLOURS, opacity);
  items.forEach((item, i) => density.set(i, item.curve ? display(item.curve) : null, item.layer));
  density.compose();
  return density;
}

/** Live changes as the page makes them: a new list each time, a changed item a new object, the rest the same objects. */
function change(items: Item[], r: () => number): Item[] {
  const next = items.slice();
  const roll = r();
  const i = Math.floor(r() * next.length);
  const item = next[i]!;
  if (roll < 0.35 && item.curve) {
    // A curve grows by a point (often beyond the longest one: the extent moves).
    const k = item.curve.steps.length;
    next[i] = {
      ...item,
      curve: {
        steps: [...Array.from(item.curve.steps), k * 2],
        values: [...Array.from(item.curve.values), r() * 5 - 0.5],
      },
    };
  } else if (roll < 0.55) next[i] = { ...item, curve: randomCurve(r, 1 + Math.floor(r() * 12)) };
  else if (roll < 0.7) next[i] = { ...item, layer: (item.layer + 1) % COLOURS.length };
  else if (roll < 0.8) next[i] = { ...item, curve: null };
  else if (roll < 0.92)
    next.push({ id: next.length, layer: Math.floor(r() * 3), curve: randomCurve(r, 1 + Math.floor(r() * 12)) });
  else next.pop();
  return next;
}

describe('learning curves patched change by change', () => {
  it('given curves added, moved between layers and taken away, the density image equals one drawn from scratch', () => {
    const r = rng(3);
    const a = randomCurve(r, 10);
    const b = randomCurve(r, 6);
    const c = randomCurve(r, 8);
    const live = new CurveDensity(60, 50, projection, COLOURS, 0.3);
    live.set(0, a, 0);
    live.set(1, b, 1);
    live.compose();
    live.set(2, c, 2);
    live.set(0, a, 2); // same curve, another layer (a status change)
    live.set(1, null, 0); // gone
    live.set(3, b, 0);
    live.truncate(3);
    const rows = live.compose();
    expect(rows).not.toBeNull();
    const scratch = new CurveDensity(60, 50, projection, COLOURS, 0.3);
    scratch.set(0, a, 2);
    scratch.set(2, c, 2);
    scratch.compose();
    expect(firstDifference(live.pixels, scratch.pixels)).toBe(-1);
  });

  it('given an opacity or colour change after patches, every pixel is composed again', () => {
    const r = rng(5);
    const a = randomCurve(r, 10);
    const live = new CurveDensity(60, 50, projection, COLOURS, 0.3);
    live.set(0, a, 0);
    live.compose();
    live.set(1, randomCurve(r, 5), 1);
    live.setOpacity(0.1);
    live.setColours([[1, 2, 3], COLOURS[1]!, COLOURS[2]!]);
    expect(live.compose()).toEqual({ top: 0, bottom: 50 });
    live.set(1, null, 1); // marks left from before the full compose must not hide this change
    live.compose();
    const scratch = new CurveDensity(60, 50, projection, [[1, 2, 3], COLOURS[1]!, COLOURS[2]!], 0.1);
    scratch.set(0, a, 0);
    scratch.compose();
    expect(firstDifference(live.pixels, scratch.pixels)).toBe(-1);
  });

  it('given a sequence of live changes, the envelope, curves and density equal a full recompute', () => {
    const r = rng(11);
    const display = (curve: Curve) => minMaxDownsample(curve, 4);
    const set = new LiveCurveSet<Item>({ curveOf: (t) => t.curve, display, layerOf: (t) => t.layer, bins: 16 });
    let items: Item[] = Array.from({ length: 30 }, (_, id) => ({
      id,
      layer: id % 3,
      curve: id % 7 ? randomCurve(r, 1 + (id % 11)) : null,
    }));
    set.update(items);
    expect(set.stale).toBe(false);
    set.buildDensity(60, 50, projection, COLOURS, 0.3);
    let staleSeen = 0;
    let patchedSeen = 0;
    for (let step = 0; step < 400; step++) {
      items = change(items, r);
      set.update(items);
      const curves = items.map((t) => (t.curve ? display(t.curve) : null));
      expect(set.curves).toEqual(curves);
      expect(set.drawn).toBe(curves.filter(Boolean).length);
      const extent = curveExtent(curves);
      const full = extent ? envelope(curves, extent, 16) : { x: [], low: [], high: [] };
      if (set.stale) {
        staleSeen++;
        if (step % 3 === 0) set.rebuild(); // the chart rebuilds at most a few times a second
      }
      if (!set.stale) {
        patchedSeen++;
        expect(set.envelope).toEqual(full);
      }
      set.density!.compose();
      expect(firstDifference(set.density!.pixels, freshDensity(items, display, 0.3).pixels)).toBe(-1);
    }
    // The sequence exercised both paths: patched in place, and marked for a rebuild.
    expect(staleSeen).toBeGreaterThan(10);
    expect(patchedSeen).toBeGreaterThan(100);
  });

  it('given a stale envelope, it still holds every point (nothing is cut off before the rebuild)', () => {
    const set = new LiveCurveSet<Item>({ curveOf: (t) => t.curve, display: (c) => c, layerOf: () => 0, bins: 4 });
    const high = { id: 0, layer: 0, curve: { steps: [0, 10], values: [9, 9] } };
    const low = { id: 1, layer: 0, curve: { steps: [0, 10], values: [1, 1] } };
    set.update([high, low]);
    set.update([{ ...high, curve: { steps: [0, 10], values: [5, 5] } }, low]);
    expect(set.stale).toBe(true);
    expect(set.envelope.high).toEqual([9, null, null, 9]);
    set.rebuild();
    expect(set.envelope.high).toEqual([5, null, null, 5]);
  });

  it('given a curve that grew by a point inside the extent, the envelope is patched, not marked for a rebuild', () => {
    const set = new LiveCurveSet<Item>({ curveOf: (t) => t.curve, display: (c) => c, layerOf: () => 0, bins: 4 });
    const long = { id: 0, layer: 0, curve: { steps: [0, 10, 20, 30], values: [4, 3, 2, 1] } };
    const short = { id: 1, layer: 0, curve: { steps: [0, 10], values: [4, 3.5] } };
    set.update([long, short]);
    const changed = set.update([long, { ...short, curve: { steps: [0, 10, 20], values: [4, 3.5, 0.5] } }]);
    expect(changed).toBe(true);
    expect(set.stale).toBe(false);
    expect(set.envelope.low).toEqual([4, 3, 0.5, 1]);
  });
});
