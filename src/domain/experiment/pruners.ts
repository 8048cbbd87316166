/**
 * Early-stopping rules that decide exactly as Optuna 3.1's pruners do on the
 * same data (`test/unit/pruners-optuna.test.ts` replays decisions Optuna made):
 *
 * - median: MedianPruner(n_startup_trials = startupJobs, n_warmup_steps =
 *   warmupSteps, interval_steps = intervalSteps, n_min_trials = minJobs);
 * - successive halving: SuccessiveHalvingPruner(min_resource = minSteps,
 *   reduction_factor, min_early_stopping_rate). Optuna keeps each trial's
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
  /** Optuna's min_early_stopping_rate: rung r is at step minSteps · reductionFactor^(rate + r). 0 when absent. */
  minEarlyStoppingRate?: number;
  /** Rungs above this step are never evaluated (no limit when null). */
  maxSteps: number | null;
}

/** A point of a series: a step and the first value reported for it. */
export interface StepValue {
  step: number;
  value: number;
}

/** A trial's series before a report, as much of it as the rules read (see TrialSeries). */
export interface SeriesBefore {
  /** Its two largest steps, largest first (fewer when it has fewer). */
  top: readonly StepValue[];
  /** The least and greatest of its values that are not NaN; NaN when it has none. */
  min: number;
  max: number;
  /** Whether it has a value at this step. */
  has(step: number): boolean;
}

/** A series with no point yet. */
export const EMPTY_SERIES: SeriesBefore = { top: [], min: Number.NaN, max: Number.NaN, has: () => false };

/** What the rules read of a whole series held in memory. */
export function seriesBeforeOf(values: Intermediate): SeriesBefore {
  const series = new TrialSeries(EMPTY_SERIES);
  for (const [step, value] of values) series.add(step, value);
  return series.summary((step) => values.has(step));
}

/**
 * What the rules read of the trial being judged, kept as it grows, whatever
 * its length: its two largest steps with their values (Optuna's `last_step`,
 * and the step before it for the interval check), its best values (numpy's
 * nanmin and nanmax), and whether a step is already in it. A report is judged
 * against this, not against the whole series: its cost is the report's, not
 * the job's history's.
 */
export class TrialSeries {
  /** The largest steps, largest first: at most two. */
  private top: StepValue[];
  private min: number;
  private max: number;
  private readonly added = new Set<number>();

  constructor(private readonly before: SeriesBefore) {
    this.top = before.top.slice(0, 2);
    this.min = before.min;
    this.max = before.max;
  }

  /** A whole series held in memory. */
  static of(values: Intermediate): TrialSeries {
    return new TrialSeries(seriesBeforeOf(values));
  }

  has(step: number): boolean {
    return this.added.has(step) || this.before.has(step);
  }

  /** A step new to the series (one it has keeps its first value: see `has`). */
  add(step: number, value: number): void {
    this.added.add(step);
    const [first, second] = this.top;
    if (!first || step > first.step) this.top = first ? [{ step, value }, first] : [{ step, value }];
    else if (!second || step > second.step) this.top = [first, { step, value }];
    if (Number.isNaN(value)) return;
    this.min = Number.isNaN(this.min) ? value : Math.min(this.min, value);
    this.max = Number.isNaN(this.max) ? value : Math.max(this.max, value);
  }

  /** The series as it stands, for judging a later report against (`has` answers for the steps). */
  summary(has: (step: number) => boolean): SeriesBefore {
    return { top: [...this.top], min: this.min, max: this.max, has };
  }

  /** Optuna's `trial.last_step`, with its value. */
  get last(): StepValue | undefined {
    return this.top[0];
  }

  /** The largest step before the last one, -1 when there is none. */
  get stepBeforeLast(): number {
    return this.top[1]?.step ?? -1;
  }

  /** numpy's nanmax / nanmin over the values: NaN only when every value is NaN. */
  best(direction: Direction): number {
    return direction === 'MAXIMIZE' ? this.max : this.min;
  }
}

/**
 * A rule's verdict with what it was decided on: the threshold the trial was
 * held to (the median of completed trials at the step, or the rung's cutoff)
 * and how many trials' values that threshold came from. Both are null when
 * no threshold was needed (a trial whose values are all NaN is pruned outright).
 */
export interface Verdict {
  prune: boolean;
  threshold: number | null;
  comparedTrials: number | null;
}

const KEEP: Verdict = { prune: false, threshold: null, comparedTrials: null };

/** MedianPruner.prune: `completed` are the intermediate values of the experiment's SUCCEEDED jobs. */
export function medianPrunes(
  rule: MedianRule,
  direction: Direction,
  trial: Intermediate,
  completed: readonly Intermediate[],
): boolean {
  return medianVerdict(rule, direction, TrialSeries.of(trial), completed).prune;
}

/** `medianPrunes` with the median it compared against and the number of completed trials behind it. */
export function medianVerdict(
  rule: MedianRule,
  direction: Direction,
  trial: TrialSeries,
  completed: readonly Intermediate[],
): Verdict {
  if (completed.length === 0) return KEEP;
  if (completed.length < rule.startupJobs) return KEEP;
  const step = trial.last?.step;
  if (step === undefined) return KEEP;
  if (step < rule.warmupSteps) return KEEP;
  if (!isFirstInIntervalStep(step, trial.stepBeforeLast, rule.warmupSteps, rule.intervalSteps)) return KEEP;
  const best = trial.best(direction);
  if (Number.isNaN(best)) return { prune: true, threshold: null, comparedTrials: null };
  const { percentile: median, trials } = percentileAtStep(completed, direction, step, 50, rule.minJobs);
  if (Number.isNaN(median)) return KEEP;
  const prune = direction === 'MAXIMIZE' ? best < median : best > median;
  return { prune, threshold: median, comparedTrials: trials };
}

/** Optuna's `_is_first_in_interval_step`: `secondLastStep` is the largest step before `step` (-1: none). */
function isFirstInIntervalStep(
  step: number,
  secondLastStep: number,
  warmupSteps: number,
  intervalSteps: number,
): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmupSteps) / intervalSteps) * intervalSteps + warmupSteps;
  return secondLastStep < nearestLowerPruningStep;
}

function percentileAtStep(
  completed: readonly Intermediate[],
  direction: Direction,
  step: number,
  percentile: number,
  minTrials: number,
): { percentile: number; trials: number } {
  const values = completed.filter((t) => t.has(step)).map((t) => t.get(step)!);
  if (values.length < minTrials) return { percentile: Number.NaN, trials: values.length };
  return {
    percentile: nanPercentile(values, direction === 'MAXIMIZE' ? 100 - percentile : percentile),
    // numpy's nanpercentile leaves NaN values out: they are not among the trials it came from.
    trials: values.filter((v) => !Number.isNaN(v)).length,
  };
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
  const { prune, reached } = successiveHalvingVerdict(rule, direction, TrialSeries.of(trial), rungsReached, recordedAt);
  return { prune, reached };
}

/**
 * `successiveHalving` with the rung the trial was last judged at and that
 * rung's cutoff: the worst value still promoted among the values recorded
 * there, this trial's included (`comparedTrials` counts them).
 */
export function successiveHalvingVerdict(
  rule: SuccessiveHalvingRule,
  direction: Direction,
  trial: TrialSeries,
  rungsReached: number,
  recordedAt: (rung: number) => readonly number[],
): RungDecision & Verdict & { rung: number | null } {
  const last = trial.last;
  if (last === undefined) return { ...KEEP, reached: [], rung: null };
  const { step, value } = last;
  const reached: { rung: number; value: number }[] = [];
  for (let rung = rungsReached; ; rung++) {
    const promotionStep = rule.minSteps * rule.reductionFactor ** ((rule.minEarlyStoppingRate ?? 0) + rung);
    if (step < promotionStep) return { ...KEEP, reached, rung: null };
    if (rule.maxSteps !== null && promotionStep > rule.maxSteps) return { ...KEEP, reached, rung: null };
    if (Number.isNaN(value)) return { prune: true, threshold: null, comparedTrials: null, reached, rung };
    reached.push({ rung, value });
    const competing = [...recordedAt(rung), value];
    const cutoff = promotionCutoff(competing, rule.reductionFactor, direction);
    const promotable = direction === 'MAXIMIZE' ? value >= cutoff : value <= cutoff;
    if (!promotable) return { prune: true, threshold: cutoff, comparedTrials: competing.length, reached, rung };
  }
}

/** The worst value still promoted at a rung: a trial is promotable when its value is at least as good. */
function promotionCutoff(competing: number[], reductionFactor: number, direction: Direction): number {
  let promotableIndex = Math.floor(competing.length / reductionFactor) - 1;
  // Optuna cannot suspend trials: the first ones are promoted only if best so far.
  if (promotableIndex === -1) promotableIndex = 0;
  const sorted = [...competing].sort((a, b) => a - b);
  return direction === 'MAXIMIZE' ? sorted[sorted.length - 1 - promotableIndex]! : sorted[promotableIndex]!;
}
