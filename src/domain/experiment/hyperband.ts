/**
 * Hyperband, as Optuna's HyperbandPruner decides (optuna/pruners/_hyperband.py):
 * several successive-halving brackets side by side, bracket b stopping early
 * at rate b, so that some trials are judged early and often and others late
 * and rarely. Each trial belongs to one bracket, chosen by hashing the
 * experiment's name with the trial's number, in proportion to the brackets'
 * budgets; it competes only with the trials of its bracket.
 *
 * `maxSteps` null is Optuna's max_resource "auto", fixed once as Optuna fixes
 * it: the last step of the first trial to complete (with a report of the
 * objective), plus one. Until then nothing is judged and every trial is in
 * bracket 0, as in Optuna. Fixed, the brackets never change under a running
 * trial. Optuna takes the largest last step of the trials complete at its
 * first judgement after the first completion: the same trial unless two
 * complete with no report judged between them.
 */
import { crc32 } from 'node:zlib';
import { correctLog } from './correct-log.js';
import type { SuccessiveHalvingRule } from './pruners.js';

export interface HyperbandRule {
  minSteps: number;
  reductionFactor: number;
  /** Optuna's max_resource; null: from the first completed trial. */
  maxSteps: number | null;
}

/**
 * How many brackets: ⌊log_rf(max / min)⌋ + 1, rounded as Python's
 * math.log(x, base) is (log x / log base, each correctly rounded): at an
 * exact power the quotient may land just below the integer, and Optuna's
 * count with it.
 */
export function bracketCount(minSteps: number, maxSteps: number, reductionFactor: number): number {
  return Math.floor(correctLog(maxSteps / minSteps) / correctLog(reductionFactor)) + 1;
}

/** Each bracket's share of trials: ⌈n · rf^s / (s + 1)⌉ with s = n − 1 − bracket. */
export function bracketBudgets(brackets: number, reductionFactor: number): number[] {
  return Array.from({ length: brackets }, (_, bracket) => {
    const s = brackets - 1 - bracket;
    return Math.ceil((brackets * reductionFactor ** s) / (s + 1));
  });
}

/** The bracket of trial `trialNumber` of experiment `name`: CRC-32 of "name_number" over the budgets. */
export function bracketOf(name: string, trialNumber: number | string, budgets: readonly number[]): number {
  const total = budgets.reduce((a, b) => a + b, 0);
  let rest = crc32(Buffer.from(`${name}_${trialNumber}`, 'utf8')) % total;
  for (let bracket = 0; bracket < budgets.length; bracket++) {
    rest -= budgets[bracket]!;
    if (rest < 0) return bracket;
  }
  return budgets.length - 1;
}

/**
 * The brackets' budgets once max_resource is known (explicit, or from the
 * first completed trial); null before. `firstCompletedLastStep` is asked for
 * only when maxSteps is "auto".
 */
export function hyperbandBudgets(rule: HyperbandRule, firstCompletedLastStep: () => number | null): number[] | null {
  const lastStep = rule.maxSteps === null ? firstCompletedLastStep() : null;
  const maxSteps = rule.maxSteps ?? (lastStep === null ? null : lastStep + 1);
  if (maxSteps === null) return null;
  return bracketBudgets(bracketCount(rule.minSteps, maxSteps, rule.reductionFactor), rule.reductionFactor);
}

/** A bracket's rule: successive halving at the bracket's early-stopping rate. */
export function bracketRule(rule: HyperbandRule, bracket: number): SuccessiveHalvingRule {
  return {
    minSteps: rule.minSteps,
    reductionFactor: rule.reductionFactor,
    minEarlyStoppingRate: bracket,
    maxSteps: null,
  };
}
