import { describe, expect, it } from 'vitest';
import { curveExtent, envelope, nearestCurve } from '../../../dashboard/src/logic/curve-set.js';

const a = { steps: [0, 10, 20], values: [1, 0.5, 0.25] };
const b = { steps: [0, 10], values: [2, 3] };

describe('many learning curves on one chart', () => {
  it('their extent covers every finite point and skips missing curves and NaN', () => {
    expect(curveExtent([a, null, b, { steps: [5], values: [Number.NaN] }])).toEqual({
      xMin: 0,
      xMax: 20,
      yMin: 0.25,
      yMax: 3,
    });
    expect(curveExtent([null])).toBeNull();
  });

  it('their envelope holds the lowest and highest value per step range, spanning the whole extent', () => {
    const extent = curveExtent([a, b])!;
    const e = envelope([a, b], extent, 2);
    expect(e.x).toEqual([0, 20]);
    // Bin 0 holds steps 0..9: values 1 and 2; bin 1 holds 10..20: 0.5, 0.25 and 3.
    expect(e.low).toEqual([1, 0.25]);
    expect(e.high).toEqual([2, 3]);
  });

  it('the pointer picks the curve it is nearest to, within a radius, between points too', () => {
    const identity = { ax: 1, bx: 0, ay: 1, by: 0 };
    const flat = { steps: [0, 100], values: [10, 10] };
    const higher = { steps: [0, 100], values: [20, 20] };
    expect(nearestCurve([flat, higher], identity, 50, 12, 5)).toBe(0);
    expect(nearestCurve([flat, higher], identity, 50, 18, 5)).toBe(1);
    expect(nearestCurve([flat, higher], identity, 50, 15.5, 2)).toBeNull();
  });
});
