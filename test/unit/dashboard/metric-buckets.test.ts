import { describe, expect, it } from 'vitest';
import {
  appendTail,
  bucketCountFor,
  bucketsToColumns,
  refreshFor,
  withDetail,
  yRangeWith,
  type MetricBucket,
} from '../../../dashboard/src/logic/metric-buckets.js';

/** A bucket of steps from..to whose points are all `value`, except an optional spike. */
function bucket(fromStep: number, toStep: number, value: number, spike?: number): MetricBucket {
  return {
    fromStep,
    toStep,
    count: toStep - fromStep + 1,
    min: Math.min(value, spike ?? value),
    max: Math.max(value, spike ?? value),
    last: { step: toStep, value },
  };
}

describe('buckets as chart columns', () => {
  it('given a bucket hiding a spike, the max column keeps the spike while the line shows the last value', () => {
    const columns = bucketsToColumns([bucket(0, 9, 1), bucket(10, 19, 1, 50), bucket(20, 29, 2)]);
    expect(columns).toEqual([
      [9, 19, 29],
      [1, 1, 2],
      [1, 1, 2],
      [1, 50, 2],
    ]);
  });

  it('given a chart width, asks one bucket a pixel within the server cap of 2000', () => {
    expect(bucketCountFor(640)).toBe(640);
    expect(bucketCountFor(3840)).toBe(2000);
    expect(bucketCountFor(0)).toBe(1);
  });
});

describe('zoomed detail inside the overview', () => {
  it('given detail for steps 100..199, replaces the overview buckets there and keeps the rest', () => {
    const overview = [bucket(0, 99, 1), bucket(100, 199, 2), bucket(200, 299, 3)];
    const detail = { fromStep: 100, toStep: 199, buckets: [bucket(100, 149, 2.1), bucket(150, 199, 2.2)] };
    expect(withDetail(overview, detail).map((b) => b.last.step)).toEqual([99, 149, 199, 299]);
  });

  it('given no detail, is the overview', () => {
    const overview = [bucket(0, 9, 1)];
    expect(withDetail(overview, null)).toEqual(overview);
  });
});

describe('refreshing a live series', () => {
  const overview = Array.from({ length: 100 }, (_, i) => bucket(i * 10, i * 10 + 9, i));
  const known = { count: 1000, firstStep: 0, lastStep: 999 };

  it('given 50 points appended past the last step, fetches only the tail, in buckets as wide as the overview', () => {
    expect(refreshFor(overview, known, { count: 1050, firstStep: 0, lastStep: 1049 }, 100)).toEqual({
      kind: 'tail',
      fromStep: 1000,
      toStep: 1049,
      count: 5,
    });
  });

  it('given the same summary, fetches nothing', () => {
    expect(refreshFor(overview, known, { ...known }, 100)).toEqual({ kind: 'none' });
  });

  it('given points added inside the known range, re-reads the whole series', () => {
    expect(refreshFor(overview, known, { count: 1100, firstStep: 0, lastStep: 1049 }, 100)).toEqual({ kind: 'whole' });
    expect(refreshFor(overview, known, { count: 1001, firstStep: 0, lastStep: 999 }, 100)).toEqual({ kind: 'whole' });
    expect(refreshFor(overview, known, { count: 1001, firstStep: -1, lastStep: 999 }, 100)).toEqual({ kind: 'whole' });
  });

  it('given tails that would make the overview twice as fine as the chart, re-reads the whole series to re-cut it', () => {
    const fine = Array.from({ length: 199 }, (_, i) => bucket(i * 10, i * 10 + 9, i));
    expect(
      refreshFor(
        fine,
        { count: 1990, firstStep: 0, lastStep: 1989 },
        { count: 2100, firstStep: 0, lastStep: 2099 },
        100,
      ),
    ).toEqual({
      kind: 'whole',
    });
  });

  it('given nothing loaded yet, reads the whole series', () => {
    expect(refreshFor([], null, known, 100)).toEqual({ kind: 'whole' });
  });

  it('appends a tail after the overview without repeating a bucket it already has', () => {
    const merged = appendTail(overview, [bucket(990, 999, 99), bucket(1000, 1009, 100)]);
    expect(merged).toHaveLength(101);
    expect(merged[100]!.last.step).toBe(1009);
  });
});

describe('the y range of a chart with a pruning threshold', () => {
  it('given a threshold above the data, widens the range to show it', () => {
    const [low, high] = yRangeWith(0.1, 0.5, 0.9);
    expect(low).toBeLessThan(0.1);
    expect(high).toBeGreaterThan(0.9);
  });

  it('given a flat series, still answers a range with height', () => {
    const [low, high] = yRangeWith(2, 2, null);
    expect(high).toBeGreaterThan(low);
  });
});
