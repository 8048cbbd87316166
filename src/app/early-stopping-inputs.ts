/**
 * What an experiment's early-stopping rule judges a job's report against, read
 * before the report decides, so the report, the rungs it reached and a prune
 * go in one append (see domain/job/early-stopping.ts, which judges):
 * - the rule and the objective: from the experiment's settings, which never
 *   change once created, so they are read once per experiment and kept;
 * - what the rules read of the job's own objective points so far (its value
 *   range, its two largest steps, whether a reported step is already there):
 *   a few seeks whatever the series' length, none when its state shows no
 *   point of the objective yet (a first report);
 * - the completed trials' points (median): kept current by the read model's queries;
 * - the values other trials recorded at a rung (successive halving): read
 *   only for a rung the report reaches.
 * A read of the read models, no change anywhere: a decision may call it.
 */
import { LRUCache } from 'lru-cache';
import type { EarlyStopping } from '../domain/job/early-stopping.js';
import { bracketOf, bracketRule, hyperbandBudgets, type HyperbandRule } from '../domain/experiment/hyperband.js';
import { EMPTY_SERIES } from '../domain/experiment/pruners.js';
import type { JobState } from '../domain/job/state.js';
import type { ExperimentSettings } from '../domain/experiment/settings.js';
import type { ExperimentQueries } from '../../projections/experiments-queries.js';

/** Experiments whose rule is kept: each entry is a few hundred bytes. */
export const EARLY_STOPPING_RULES_KEPT = 1000;

type Rule = Omit<EarlyStopping, 'baseline' | 'completed' | 'recordedAt'> & {
  /** Hyperband: the experiment's name (its brackets' hash key) and the rule; its bracket is per job. */
  hyperband: { name: string; rule: HyperbandRule } | null;
};

export class EarlyStoppingInputs {
  /** Per experiment: its rule, or null for none (no early stopping, or no objective). */
  private readonly rules = new LRUCache<string, { rule: Rule | null }>({ max: EARLY_STOPPING_RULES_KEPT });

  constructor(private readonly queries: ExperimentQueries) {}

  /** The rule that judges this job's next report, with what it compares against; null when none applies. */
  judging(job: JobState): EarlyStopping | null {
    if (!job.experimentId || job.status !== 'RUNNING') return null;
    const experimentId = job.experimentId;
    const rule = this.ruleOf(experimentId);
    if (!rule) return null;
    const hasPoints = Object.hasOwn(job.lastStepByMetric, rule.metric);
    const { hyperband, ...judged } = rule;
    const baseline = hasPoints ? this.queries.seriesBefore(job.id, rule.metric) : EMPTY_SERIES;
    if (hyperband) return this.hyperbandJudging(job, experimentId, judged, hyperband, baseline);
    return {
      ...judged,
      baseline,
      completed: rule.median ? this.queries.completedIntermediates(experimentId, rule.metric) : [],
      recordedAt: (rung) => this.queries.rungValues(experimentId, rung, job.id),
    };
  }

  /**
   * Hyperband: the job's bracket's successive halving, against the values its
   * bracket recorded; nothing to judge by until max_resource is known.
   */
  private hyperbandJudging(
    job: JobState,
    experimentId: string,
    judged: Omit<Rule, 'hyperband'>,
    { name, rule }: { name: string; rule: HyperbandRule },
    baseline: EarlyStopping['baseline'],
  ): EarlyStopping | null {
    const budgets = hyperbandBudgets(rule, () => this.queries.firstCompletedLastStep(experimentId, judged.metric));
    if (!budgets) return null;
    const bracketOfJob = (trialIndex: number | null, jobId: string) => bracketOf(name, trialIndex ?? jobId, budgets);
    const bracket = bracketOfJob(job.trialIndex, job.id);
    return {
      ...judged,
      successiveHalving: bracketRule(rule, bracket),
      bracket,
      baseline,
      completed: [],
      recordedAt: (rung) =>
        this.queries
          .rungValuesWithTrials(experimentId, rung, job.id)
          .filter((r) => bracketOfJob(r.trialIndex, r.jobId) === bracket)
          .map((r) => r.value),
    };
  }

  private ruleOf(experimentId: string): Rule | null {
    const kept = this.rules.get(experimentId);
    if (kept) return kept.rule;
    const experiment = this.queries.experiment(experimentId);
    // Not in the read model (yet): nothing to judge by, and nothing kept.
    if (!experiment) return null;
    const rule = ruleOf(experiment.settings);
    this.rules.set(experimentId, { rule });
    return rule;
  }
}

function ruleOf(settings: ExperimentSettings): Rule | null {
  const { earlyStopping, objective } = settings;
  if (!earlyStopping || !objective) return null;
  return {
    metric: objective.metric,
    direction: objective.direction,
    median: earlyStopping.median ?? null,
    successiveHalving: earlyStopping.median ? null : (earlyStopping.successiveHalving ?? null),
    hyperband: earlyStopping.hyperband ? { name: settings.name, rule: earlyStopping.hyperband } : null,
  };
}
