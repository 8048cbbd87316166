import { describe, expect, it } from 'vitest';
import { minMaxDownsample } from '../../../dashboard/src/logic/downsample.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('min/max downsampling for display', () => {
  it('given a curve shorter than the buckets allow, returns it unchanged', () => {
    const curve = { steps: [0, 1, 2], values: [1, 2, 3] };
    expect(minMaxDownsample(curve, 10)).toBe(curve);
  });

  it('given a million points with one spike up and one down, keeps both spikes at their steps', () => {
    const steps = range(1_000_000);
    const values = steps.map((i) => Math.sin(i / 1000));
    values[123_457] = 50;
    values[876_543] = -50;
    const out = minMaxDownsample({ steps, values }, 500);
    expect(out.steps.length).toBeLessThanOrEqual(2 * 500 + 2);
    expect(out.values[out.steps.indexOf(123_457)]).toBe(50);
    expect(out.values[out.steps.indexOf(876_543)]).toBe(-50);
  });

  it('keeps the first and last point and the step order', () => {
    const steps = range(10_000);
    const values = steps.map((i) => (i * 7919) % 101);
    const out = minMaxDownsample({ steps, values }, 50);
    expect(out.steps[0]).toBe(0);
    expect(out.steps.at(-1)).toBe(9_999);
    expect([...out.steps]).toEqual([...out.steps].sort((a, b) => a - b));
    for (let i = 0; i < out.steps.length; i++) expect(out.values[i]).toBe(values[out.steps[i]!]);
  });
});
