/**
 * What an experiment's early-stopping rule makes of one metrics report, decided
 * together with the report itself: the rungs the report reached, and whether
 * (and why) it prunes the job. Deciding both at once is what lets a report that
 * prunes keep none of its points past the pruning step: once pruned, the job
 * has stopped there, whatever else the same call carried.
 *
 * Pure: the caller gathers what the rule compares against (what the rules read
 * of the job's own objective points so far, the completed trials, the values
 * recorded at a rung).
 */
import {
  medianVerdict,
  successiveHalvingVerdict,
  TrialSeries,
  type Direction,
  type SeriesBefore,
  type Intermediate,
  type MedianRule,
  type SuccessiveHalvingRule,
} from '../experiment/pruners.js';
import type { PruningDecision } from './events.js';

export interface EarlyStopping {
  /** The experiment's objective metric: only its points are judged. */
  metric: string;
  direction: Direction;
  /** At most one of the two rules is set (none: nothing to judge by yet, as Hyperband before a completion). */
  median: MedianRule | null;
  successiveHalving: SuccessiveHalvingRule | null;
  /** Hyperband: the job's bracket, whose successive-halving rule `successiveHalving` is. */
  bracket?: number;
  /** The job's objective series before this report: what the rules read of it, not the whole series. */
  baseline: SeriesBefore;
  /** Median: the objective's points of each of the experiment's completed jobs. */
  completed: readonly Intermediate[];
  /** Successive halving: the values the experiment's other trials recorded at a rung. */
  recordedAt: (rung: number) => readonly number[];
}

export interface ReportVerdict {
  /** Successive halving: the rungs this report completed, with the value recorded at each. */
  reached: { rung: number; value: number }[];
  prune: PruningDecision | null;
}

/**
 * Judges each new point of the objective in the order reported, as Optuna
 * would if each were reported and checked on its own, and stops at the first
 * prune: one batch decides as the same points sent one by one. A step the job
 * already has keeps its first value (as `trial.report` keeps) and is judged
 * again, as Optuna's `should_prune` after it: against the trials completed (or
 * the rung values recorded) since. Each point is judged, as Optuna judges, at
 * the series' largest step with its value.
 */
export function judgeReport(
  rule: EarlyStopping,
  points: readonly { name: string; step: number; value: number }[],
  rungsBefore: number,
): ReportVerdict {
  const values = new TrialSeries(rule.baseline);
  const reached: { rung: number; value: number }[] = [];
  for (const point of points) {
    if (point.name !== rule.metric) continue;
    if (!values.has(point.step)) values.add(point.step, point.value);
    const judged = { ...values.last! };
    if (rule.median) {
      const verdict = medianVerdict(rule.median, rule.direction, values, rule.completed);
      if (verdict.prune) {
        const { threshold, comparedTrials } = verdict;
        return { reached, prune: { rule: 'median', ...judged, threshold, comparedTrials, rung: null } };
      }
    } else if (rule.successiveHalving) {
      const verdict = successiveHalvingVerdict(
        rule.successiveHalving,
        rule.direction,
        values,
        rungsBefore + reached.length,
        rule.recordedAt,
      );
      reached.push(...verdict.reached);
      if (verdict.prune) {
        const { threshold, comparedTrials, rung } = verdict;
        const decided = { ...judged, threshold, comparedTrials, rung };
        return {
          reached,
          prune:
            rule.bracket === undefined
              ? { rule: 'successiveHalving', ...decided }
              : { rule: 'hyperband', ...decided, bracket: rule.bracket },
        };
      }
    }
  }
  return { reached, prune: null };
}

/**
 * What a pruned job keeps of the report that pruned it: no point past the
 * step it was pruned at, of any metric; the objective's series ends there.
 */
export function keptUntil<P extends { step: number }>(points: readonly P[], prune: PruningDecision | null): P[] {
  return prune ? points.filter((p) => p.step <= prune.step) : [...points];
}
