// Downsampling for display: a curve with more points than the chart has pixels is cut into buckets
// of consecutive points, and each bucket keeps its minimum and its maximum (in the order they came),
// so a one-step spike still reaches its height on screen. Averages would flatten it.

export interface Curve {
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * At most `2 * buckets` points (plus the first and last), min and max of each bucket in step order.
 * A curve already that short is returned as it is (same arrays).
 */
export function minMaxDownsample<C extends Curve>(
  curve: C,
  buckets: number,
): C | { steps: number[]; values: number[] } {
  const n = curve.steps.length;
  if (buckets < 1 || n <= 2 * buckets + 2) return curve;
  const steps: number[] = [];
  const values: number[] = [];
  const push = (i: number) => {
    steps.push(curve.steps[i]!);
    values.push(curve.values[i]!);
  };
  push(0);
  const size = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor(b * size);
    const to = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
    if (from >= to) continue;
    let min = from;
    let max = from;
    for (let i = from + 1; i < to; i++) {
      const v = curve.values[i]!;
      // NaN never wins a comparison: a NaN point is dropped rather than drawn.
      if (v < curve.values[min]! || Number.isNaN(curve.values[min]!)) min = i;
      if (v > curve.values[max]! || Number.isNaN(curve.values[max]!)) max = i;
    }
    if (min === max) push(min);
    else if (min < max) {
      push(min);
      push(max);
    } else {
      push(max);
      push(min);
    }
  }
  push(n - 1);
  return { steps, values };
}
