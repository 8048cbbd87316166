// The optimization history's "best so far" line: after each trial, the best objective among the
// trials that finished successfully up to it. Pruned, failed and unfinished trials do not count
// (as in Optuna): a pruned trial's value is a partial curve, not a result.
export type Direction = 'MINIMIZE' | 'MAXIMIZE';

export interface ScoredTrial {
  objectiveValue: number | null;
  /** Only trials that count toward the best (finished successfully). */
  counts: boolean;
}

/** One entry per trial, in the order given: the best value so far, null until a trial counts. */
export function bestSoFar(trials: readonly ScoredTrial[], direction: Direction): (number | null)[] {
  const line = new Array<number | null>(trials.length);
  bestSoFarFrom(line, 0, trials.length, (i) => trials[i]!, direction);
  return line;
}

/**
 * Rewrites `line` (the best so far of each trial) from entry `from` on, up to `length`, trusting the
 * entries before it: after a live change only the line from the first changed trial on can differ.
 */
export function bestSoFarFrom(
  line: (number | null)[],
  from: number,
  length: number,
  trial: (i: number) => ScoredTrial,
  direction: Direction,
): void {
  const better = direction === 'MAXIMIZE' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let best: number | null = from > 0 ? (line[from - 1] ?? null) : null;
  for (let i = from; i < length; i++) {
    const { objectiveValue, counts } = trial(i);
    if (
      counts &&
      objectiveValue !== null &&
      Number.isFinite(objectiveValue) &&
      (best === null || better(objectiveValue, best))
    ) {
      best = objectiveValue;
    }
    line[i] = best;
  }
  line.length = length;
}
