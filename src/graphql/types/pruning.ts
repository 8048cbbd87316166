/**
 * `PruningDecision`: why an early-stopping rule pruned a job, exactly as the
 * JobPruned event recorded it when the rule decided (not recomputed later).
 */
import type { PruningDecision as Decision } from '../../domain/job/events.js';
import { builder } from '../builder.js';

export const PruningDecision = builder.objectRef<Decision>('PruningDecision').implement({
  description: 'Why an early-stopping rule pruned a job: the numbers it decided on, as recorded when it decided.',
  fields: (t) => ({
    rule: t.exposeString('rule', {
      description: 'The rule that pruned the job: "median", "successiveHalving" or "hyperband".',
    }),
    step: t.exposeInt('step', {
      description: "The step of the objective's point that was judged: the job keeps no point after it.",
    }),
    value: t.exposeFloat('value', { description: "The job's objective value at that step." }),
    threshold: t.exposeFloat('threshold', {
      nullable: true,
      description:
        "What the job was held to: for median, the median of the completed trials' values at that step (pruned when the job's best " +
        "value so far is worse); for successive halving, the rung's cutoff (the worst value still promoted). Null when the job " +
        'was pruned before thresholds were recorded, or without one.',
    }),
    comparedTrials: t.exposeInt('comparedTrials', {
      nullable: true,
      description:
        'How many trials the threshold came from: the completed trials with a value at that step (median), or the trials ' +
        'recorded at the rung, this one included (successive halving). Null when the threshold is.',
    }),
    rung: t.exposeInt('rung', {
      nullable: true,
      description: 'Successive halving and Hyperband: the rung the job was stopped at (null for median).',
    }),
    bracket: t.int({
      nullable: true,
      description: "Hyperband: the job's bracket (null for the other rules).",
      resolve: (d) => d.bracket ?? null,
    }),
  }),
});
