/**
 * Early-stopping rules that decide exactly as Optuna 3.1's pruners do on the
 * same data (`test/pruners-optuna.test.ts` replays decisions Optuna made):
 *
 * - median: MedianPruner(n_startup_trials = startupJobs, n_warmup_steps =
 *   warmupSteps, interval_steps = intervalSteps, n_min_trials = minJobs);
 * - successive halving: SuccessiveHalvingPruner(min_resource = minSteps,
 *   reduction_factor, min_early_stopping_rate = 0). Optuna keeps each trial's
 *   value at each rung it reaches; so do we, in the events (JobRungsReached).
 *
 * A trial's intermediate values are its objective metric's points, step ->
 * first value reported for that step (as `trial.report` keeps).
 */

export type Direction = 'MINIMIZE' | 'MAXIMIZE';
export type Intermediate = ReadonlyMap<number, number>;

export interface MedianRule {
  startupJobs: number;
  warmupSteps: number;
  intervalSteps: number;
  minJobs: number;
}

export interface SuccessiveHalvingRule {
  minSteps: number;
  reductionFactor: number;
  /** Rungs above this step are never evaluated (no limit when null). */
  maxSteps: number | null;
}

export function lastStep(values: Intermediate): number | undefined {
  let last: number | undefined;
  for (const step of values.keys()) if (last === undefined || step > last) last = step;
  return last;
}

/** MedianPruner.prune: `completed` are the intermediate values of the experiment's SUCCEEDED jobs. */
export function medianPrunes(
  rule: MedianRule,
  direction: Direction,
  trial: Intermediate,
  completed: readonly Intermediate[],
): boolean {
  if (completed.length === 0) return false;
  if (completed.length < rule.startupJobs) return false;
  const step = lastStep(trial);
  if (step === undefined) return false;
  if (step < rule.warmupSteps) return false;
  if (!isFirstInIntervalStep(step, trial, rule.warmupSteps, rule.intervalSteps)) return false;
  const best = bestOf([...trial.values()], direction);
  if (Number.isNaN(best)) return true;
  const median = percentileAtStep(completed, direction, step, 50, rule.minJobs);
  if (Number.isNaN(median)) return false;
  return direction === 'MAXIMIZE' ? best < median : best > median;
}

function isFirstInIntervalStep(step: number, trial: Intermediate, warmupSteps: number, intervalSteps: number): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmupSteps) / intervalSteps) * intervalSteps + warmupSteps;
  let secondLastStep = -1;
  for (const s of trial.keys()) if (s > secondLastStep && s !== step) secondLastStep = s;
  return secondLastStep < nearestLowerPruningStep;
}

/** numpy's nanmax / nanmin: NaN only when every value is NaN. */
function bestOf(values: number[], direction: Direction): number {
  const real = values.filter((v) => !Number.isNaN(v));
  if (real.length === 0) return Number.NaN;
  return direction === 'MAXIMIZE' ? Math.max(...real) : Math.min(...real);
}

function percentileAtStep(
  completed: readonly Intermediate[],
  direction: Direction,
  step: number,
  percentile: number,
  minTrials: number,
): number {
  const values = completed.filter((t) => t.has(step)).map((t) => t.get(step)!);
  if (values.length < minTrials) return Number.NaN;
  return nanPercentile(values, direction === 'MAXIMIZE' ? 100 - percentile : percentile);
}

/** numpy.nanpercentile with its default linear interpolation. */
export function nanPercentile(values: number[], q: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (rank - lower);
}

export interface RungDecision {
  prune: boolean;
  /** Rungs this report completed, with the value recorded for each. */
  reached: { rung: number; value: number }[];
}

/**
 * SuccessiveHalvingPruner.prune. `rungsReached` is how many rungs this trial
 * has completed before; `recordedAt(rung)` the values every other trial of the
 * experiment recorded at that rung (whatever became of them).
 */
export function successiveHalving(
  rule: SuccessiveHalvingRule,
  direction: Direction,
  trial: Intermediate,
  rungsReached: number,
  recordedAt: (rung: number) => readonly number[],
): RungDecision {
  const step = lastStep(trial);
  if (step === undefined) return { prune: false, reached: [] };
  const value = trial.get(step)!;
  const reached: { rung: number; value: number }[] = [];
  for (let rung = rungsReached; ; rung++) {
    const promotionStep = rule.minSteps * rule.reductionFactor ** rung;
    if (step < promotionStep) return { prune: false, reached };
    if (rule.maxSteps !== null && promotionStep > rule.maxSteps) return { prune: false, reached };
    if (Number.isNaN(value)) return { prune: true, reached };
    reached.push({ rung, value });
    const competing = [...recordedAt(rung), value];
    if (!isPromotable(value, competing, rule.reductionFactor, direction)) return { prune: true, reached };
  }
}

function isPromotable(value: number, competing: number[], reductionFactor: number, direction: Direction): boolean {
  let promotableIndex = Math.floor(competing.length / reductionFactor) - 1;
  // Optuna cannot suspend trials: the first ones are promoted only if best so far.
  if (promotableIndex === -1) promotableIndex = 0;
  competing.sort((a, b) => a - b);
  return direction === 'MAXIMIZE'
    ? value >= competing[competing.length - 1 - promotableIndex]!
    : value <= competing[promotableIndex]!;
}
