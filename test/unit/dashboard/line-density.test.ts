import { describe, expect, it } from 'vitest';
import { accumulateCurve, compose } from '../../../dashboard/src/logic/line-density.js';

const identity = { ax: 1, bx: 0, ay: 1, by: 0 };

describe('curves as a density image', () => {
  it('counts each pixel a curve crosses once, shared vertices included', () => {
    const counts = new Uint16Array(10 * 3);
    accumulateCurve(counts, 10, 3, { steps: [0, 4, 9], values: [1, 1, 1] }, identity);
    expect([...counts.slice(10, 20)]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(counts.slice(0, 10).every((c) => c === 0)).toBe(true);
  });

  it('adds up where curves overlap, clips what falls off the grid, and breaks at missing values', () => {
    const counts = new Uint16Array(5 * 5);
    accumulateCurve(counts, 5, 5, { steps: [0, 4], values: [2, 2] }, identity);
    accumulateCurve(counts, 5, 5, { steps: [-10, 2, 3, 20], values: [2, 2, Number.NaN, 2] }, identity);
    expect([...counts.slice(10, 15)]).toEqual([2, 2, 2, 1, 1]);
  });

  it('turns counts into opacity as stacked strokes would, and puts later layers on top', () => {
    const pixels = new Uint8ClampedArray(3 * 4);
    const under = { counts: Uint16Array.from([1, 2, 0]), rgb: [255, 0, 0] as [number, number, number] };
    const over = { counts: Uint16Array.from([0, 0, 1]), rgb: [0, 0, 255] as [number, number, number] };
    compose([under, over], pixels, 0.5);
    expect([...pixels.slice(0, 4)]).toEqual([255, 0, 0, 128]);
    expect(pixels[7]).toBe(191); // 1 - 0.5^2 = 0.75
    expect([...pixels.slice(8, 12)]).toEqual([0, 0, 255, 128]);
  });
});
