/** Latency summaries: median, p99 and max of a sample, in milliseconds. */

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Runs `step` in `concurrency` loops until `seconds` have passed; answers how many steps ran and how long it took. */
export async function loopFor(
  seconds: number,
  concurrency: number,
  step: (loop: number) => Promise<void>,
): Promise<{ iterations: number; elapsedSeconds: number }> {
  const started = performance.now();
  const until = started + seconds * 1000;
  let iterations = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < until) {
        await step(loop);
        iterations++;
      }
    }),
  );
  return { iterations, elapsedSeconds: (performance.now() - started) / 1000 };
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}
