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
  const better = direction === 'MAXIMIZE' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const line: (number | null)[] = new Array(trials.length);
  let best: number | null = null;
  for (let i = 0; i < trials.length; i++) {
    const { objectiveValue, counts } = trials[i]!;
    if (counts && objectiveValue !== null && Number.isFinite(objectiveValue) && (best === null || better(objectiveValue, best))) {
      best = objectiveValue;
    }
    line[i] = best;
  }
  return line;
}
