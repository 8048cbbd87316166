/**
 * What experiments add around job commands (implemented in
 * experiment-commands.ts): admitting a job by hand, handing out trials to a
 * claim, and what follows a job's end. Jobs and experiments refer to each
 * other; the composition root ties them.
 */
import type { Json } from '../domain/job/events.js';
import type { CommandContext } from './command-context.js';

export interface ExperimentHooks {
  /**
   * A job created by hand in an experiment: checks it; where its trial slots
   * start, how many jobs the experiment may have, and how many it has.
   */
  admitJob(
    experimentId: string,
    hyperparameters: Record<string, Json>,
  ): { firstIndex: number; limit: number | null; total: number };
  /** A claim for an experiment: a queued job if any, else a new trial from its scheduler. */
  claim(
    experimentId: string,
    context: CommandContext,
    claimQueued: () => Promise<Claim | null>,
    createAndClaim: (trial: TrialSpec) => Promise<Claim | null | 'taken'>,
  ): Promise<Claim | null>;
  /**
   * A worker pool's order: the running experiments whose labels the worker
   * offers (and that carry a command, when `withCommand`), those with the
   * fewest running trials for their priority first.
   */
  poolOrder(workerLabels: readonly string[], withCommand: boolean): string[];
  /**
   * After a job ended (succeeded, failed for good, pruned, cancelled): the stop
   * threshold, an exhausted search. The only hook about a job's life: what an
   * early-stopping rule needs is read before the report decides (early-stopping-inputs.ts).
   */
  afterJobEnded(jobId: string, context: CommandContext): Promise<void>;
}

/** A new trial as an experiment's scheduler decided it. */
export interface TrialSpec {
  index: number;
  hyperparameters: Record<string, Json>;
  generation?: number;
  parentId?: string | null;
  params?: Record<string, Json>;
  decision?: Json | null;
  /** The event this trial follows from (a PBT member's previous job ending). */
  causationId?: string;
  /** The experiment's labels, which its trials' jobs carry. */
  labels?: string[];
}

export interface Claim {
  jobId: string;
  leaseToken: string;
  leaseExpiresAt: string;
}
