// One trial (job) of an experiment as the experiment page holds it: the leaderboard, the charts and
// the lineage tree all read this one shape, kept up to date by the page's live feed.
export type TrialStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'PRUNED';

export interface Trial {
  id: string;
  /** Creation order within the experiment (0-based): the x axis of the optimization history. */
  index: number;
  status: TrialStatus;
  hyperparameters: Record<string, unknown>;
  objectiveValue: number | null;
  createdAt: string;
  finishedAt: string | null;
  /** PBT: 0 for a first-generation trial; the parent it was copied from otherwise. */
  generation: number;
  parentId: string | null;
  /**
   * The objective metric's curve, downsampled: steps and values (same length), null until loaded.
   * `min`/`max` (same length, when given) are each bucket's extremes, so a spike between two points shows.
   */
  curve: { steps: number[]; values: number[]; min?: number[]; max?: number[] } | null;
  /** Set for a PRUNED trial: the step and threshold the rule used (see Job.pruning). */
  pruning: {
    rule: string;
    step: number;
    value: number;
    threshold: number | null;
    comparedTrials: number | null;
    rung?: number | null;
  } | null;
}
