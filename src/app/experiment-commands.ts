/**
 * Experiment mutations, and what experiments add to the job commands:
 * trials handed out by claims, early stopping after reports, the stop
 * threshold after completions (see `ExperimentHooks` in job-commands.ts).
 */
import { createHash, randomInt } from 'node:crypto';
import { DomainError, badInput, conflict, notFound } from '../domain/errors.js';
import { decideExperiment, type ExperimentCommand } from '../domain/experiment/decide.js';
import { firstGeneration, memberOf, nextGeneration, slotOf, type Member } from '../domain/experiment/pbt.js';
import { medianPrunes, successiveHalving } from '../domain/experiment/pruners.js';
import { maxJobs, schedulerKind, trialAt } from '../domain/experiment/schedulers.js';
import { ExperimentSettings } from '../domain/experiment/settings.js';
import type { Json } from '../domain/job/events.js';
import type { ExperimentQueries, ExperimentView } from '../../projections/experiments-queries.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import { WrongExpectedRevisionError } from '../store/port.js';
import type { CommandContext } from './command-context.js';
import type { ExperimentRepository } from './experiment-repository.js';
import type { Claim, ExperimentHooks, JobCommands, TrialSpec } from './job-commands.js';
import { parseInput } from './validation.js';

/** The id is derived from the name, so the experiment's stream is the name's reservation. */
export const experimentIdForName = (name: string) =>
  `exp_${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;

const RACE_RETRIES = 10;

export interface ExperimentCommandDeps {
  repository: ExperimentRepository;
  queries: ExperimentQueries;
  jobQueries: JobQueries;
  jobs: JobCommands;
  waitForReadModels: (position: string) => Promise<void>;
}

export class ExperimentCommands implements ExperimentHooks {
  /** Per experiment with maxConcurrent: claims in this process take turns, so the cap holds here. */
  private readonly turns = new Map<string, Promise<unknown>>();
  /** The next trial slot this process will try, per experiment (the read model may lag). */
  private readonly cursors = new Map<string, number>();

  constructor(private readonly deps: ExperimentCommandDeps) {}

  async createExperiment(rawInput: unknown, context: CommandContext): Promise<string> {
    const settings = parseInput(ExperimentSettings, rawInput);
    // A seed chosen here is recorded, so the trials stay the same across restarts.
    for (const seeded of [settings.scheduler.random, settings.scheduler.pbt]) {
      if (seeded && seeded.seed == null) seeded.seed = randomInt(0, 2 ** 31 - 1);
    }
    const experimentId = experimentIdForName(settings.name);
    await this.execute(experimentId, { type: 'CreateExperiment', experimentId, settings }, context, 0);
    return experimentId;
  }

  async pauseExperiment(experimentId: string, context: CommandContext): Promise<string> {
    await this.execute(experimentId, { type: 'PauseExperiment' }, context);
    return experimentId;
  }

  async resumeExperiment(experimentId: string, context: CommandContext): Promise<string> {
    await this.execute(experimentId, { type: 'ResumeExperiment' }, context);
    return experimentId;
  }

  async finishExperiment(experimentId: string, context: CommandContext): Promise<string> {
    await this.finish(experimentId, 'REQUESTED', null, context, false);
    return experimentId;
  }

  /**
   * DONE: no more claims; queued jobs are cancelled, and running ones too, so
   * their workers learn through `heartbeat`'s `cancelRequested` that they must stop.
   */
  private async finish(
    experimentId: string,
    reason: 'REQUESTED' | 'STOP_THRESHOLD' | 'EXHAUSTED',
    jobId: string | null,
    context: CommandContext,
    quietIfDone: boolean,
  ): Promise<void> {
    try {
      await this.execute(experimentId, { type: 'FinishExperiment', reason, jobId }, context);
    } catch (error) {
      if (!(quietIfDone && error instanceof DomainError && error.code === 'CONFLICT')) throw error;
      return;
    }
    for (const id of this.deps.queries.unfinishedJobIds(experimentId)) {
      try {
        await this.deps.jobs.cancelJob({ jobId: id, reason: `experiment finished (${reason})` }, context);
      } catch (error) {
        // Finished by its worker meanwhile: nothing to cancel.
        if (!(error instanceof DomainError && error.code === 'CONFLICT')) throw error;
      }
    }
  }

  // ------------------------------------------------------- the job hooks

  admitJob(experimentId: string, hyperparameters: Record<string, Json>): { firstIndex: number; limit: number | null } {
    const experiment = this.require(experimentId);
    if (experiment.status === 'DONE') throw conflict('the experiment is DONE', { status: 'DONE' });
    const kind = schedulerKind(experiment.settings);
    if (kind === 'GRID' || kind === 'PBT') throw badInput(`a ${kind} experiment creates its own jobs`);
    const space = experiment.settings.scheduler.random?.space;
    if (space) {
      const expected = space.map((p) => p.name).sort();
      const given = Object.keys(hyperparameters).sort();
      if (expected.join('\u0000') !== given.join('\u0000')) {
        throw badInput(`hyperparameters must be exactly the space's parameters: ${expected.join(', ')}`, {
          field: 'hyperparameters',
        });
      }
    }
    return { firstIndex: this.peekIndex(experimentId), limit: maxJobs(experiment.settings) };
  }

  async claim(
    experimentId: string,
    claimQueued: () => Promise<Claim | null>,
    createAndClaim: (trial: TrialSpec) => Promise<Claim | null | 'taken'>,
  ): Promise<Claim | null> {
    const experiment = this.require(experimentId);
    if (experiment.status !== 'RUNNING') return null;
    const cap = experiment.settings.maxConcurrent;
    const attempt = async (): Promise<Claim | null> => {
      if (cap !== null && this.deps.queries.jobCounts(experimentId).running >= cap) return null;
      const queued = await claimQueued();
      if (queued) return queued;
      if (experiment.settings.scheduler.pbt) return this.claimPbt(experiment, claimQueued, createAndClaim);
      for (let tries = 0; tries < 1000; tries++) {
        const index = this.peekIndex(experimentId);
        const hyperparameters = trialAt(experiment.settings, index);
        // No more trials. Other claimers may still be creating the last ones, so the
        // experiment is not finished here but when its last job ends (afterJobEnded).
        if (hyperparameters === null) return null;
        this.cursors.set(experimentId, index + 1);
        const result = await createAndClaim({ index, hyperparameters });
        // Another claimer created this slot first: its job may be waiting in the queue.
        if (result === 'taken') {
          const waiting = await claimQueued();
          if (waiting) return waiting;
          continue;
        }
        if (result) return result;
      }
      return null;
    };
    return cap === null ? attempt() : this.inTurn(experimentId, attempt);
  }

  /**
   * PBT: first the first generation's members, then, for every member whose
   * latest job has ended, its next generation (exploit, then explore).
   */
  private async claimPbt(
    experiment: ExperimentView,
    claimQueued: () => Promise<Claim | null>,
    createAndClaim: (trial: TrialSpec) => Promise<Claim | null | 'taken'>,
  ): Promise<Claim | null> {
    const pbt = experiment.settings.scheduler.pbt!;
    const direction = experiment.settings.objective!.direction;
    const jobs = this.deps.queries.trialJobs(experiment.id);
    const bySlot = new Map(jobs.map((job) => [job.trialIndex, job]));
    const take = async (trial: TrialSpec): Promise<Claim | null | undefined> => {
      const result = await createAndClaim(trial);
      if (result === 'taken') return (await claimQueued()) ?? undefined;
      return result ?? undefined;
    };
    for (let member = 0; member < pbt.populationSize; member++) {
      if (bySlot.has(member)) continue;
      const claimed = await take({ index: member, hyperparameters: firstGeneration(pbt, member), generation: 0 });
      if (claimed) return claimed;
    }
    // Each member's latest job, and its latest succeeded one: members are compared
    // by what they achieved, not by jobs that are still running.
    const latest = new Map<number, (typeof jobs)[number]>();
    const achieved = new Map<number, Member>();
    for (const job of [...jobs].sort((a, b) => a.trialIndex - b.trialIndex)) {
      const { member } = memberOf(pbt, job.trialIndex);
      latest.set(member, job);
      if (job.status === 'SUCCEEDED') {
        achieved.set(member, { member, jobId: job.id, objective: job.objectiveValue, hyperparameters: job.hyperparameters });
      }
    }
    for (const [member, job] of latest) {
      if (job.status === 'QUEUED' || job.status === 'RUNNING') continue;
      const generation = memberOf(pbt, job.trialIndex).generation + 1;
      if (pbt.maxGenerations !== null && generation >= pbt.maxGenerations) continue;
      // A member whose latest job failed or was pruned has nothing of its own to go on.
      const own: Member =
        job.status === 'SUCCEEDED'
          ? achieved.get(member)!
          : { member, jobId: job.id, objective: null, hyperparameters: job.hyperparameters };
      const population = [...achieved.values()].filter((m) => m.member !== member).concat(own);
      const next = nextGeneration(pbt, direction, own, population, generation);
      const parent = jobs.find((j) => j.id === next.parentId)!;
      const claimed = await take({
        index: slotOf(pbt, member, generation),
        hyperparameters: next.hyperparameters,
        generation,
        parentId: next.parentId,
        // The worker loads the weights it starts from out of the parent's artifacts.
        params: { checkpointFrom: parent.artifacts as unknown as Json },
        decision: next.decision as unknown as Json,
      });
      if (claimed) return claimed;
    }
    return null;
  }

  async afterMetrics(jobId: string, reported: readonly string[], context: CommandContext): Promise<boolean> {
    const job = this.deps.jobQueries.job(jobId);
    if (!job?.experimentId || job.status !== 'RUNNING') return false;
    const { settings } = this.require(job.experimentId);
    const rule = settings.earlyStopping;
    const objective = settings.objective;
    if (!rule || !objective || !reported.includes(objective.metric)) return false;
    const trial = this.deps.queries.intermediates(jobId, objective.metric);
    let decision: { prune: boolean; reached: { rung: number; value: number }[] };
    if (rule.median) {
      const completed = this.deps.queries.completedIntermediates(job.experimentId, objective.metric);
      decision = { prune: medianPrunes(rule.median, objective.direction, trial, completed), reached: [] };
    } else {
      decision = successiveHalving(rule.successiveHalving!, objective.direction, trial, job.rungValues.length, (rung) =>
        this.deps.queries.rungValues(job.experimentId!, rung, jobId),
      );
    }
    if (!decision.prune && decision.reached.length === 0) return false;
    const step = Math.max(...trial.keys());
    return this.deps.jobs.applyEarlyStopping(
      jobId,
      decision.reached,
      decision.prune ? { rule: rule.median ? 'median' : 'successiveHalving', step, value: trial.get(step)! } : null,
      context,
    );
  }

  async afterJobEnded(jobId: string, context: CommandContext): Promise<void> {
    const job = this.deps.jobQueries.job(jobId);
    if (!job?.experimentId) return;
    const experiment = this.require(job.experimentId);
    if (experiment.status === 'DONE') return;
    const { stopThreshold, objective } = experiment.settings;
    if (job.status === 'SUCCEEDED' && stopThreshold !== null && objective && job.objectiveValue !== null) {
      const reached =
        objective.direction === 'MAXIMIZE' ? job.objectiveValue >= stopThreshold : job.objectiveValue <= stopThreshold;
      if (reached) return this.finish(job.experimentId, 'STOP_THRESHOLD', jobId, context, true);
    }
    // The search is exhausted once every trial slot has a job and none is queued or running.
    // (PBT fills its slots out of order, generation by generation per member: count them.)
    const limit = maxJobs(experiment.settings);
    const kind = schedulerKind(experiment.settings);
    if (limit === null || kind === 'MANUAL') return;
    const filled =
      kind === 'PBT'
        ? this.deps.queries.trialCount(job.experimentId)
        : this.deps.queries.nextTrialIndex(job.experimentId);
    const counts = this.deps.queries.jobCounts(job.experimentId);
    if (filled >= limit && counts.queued + counts.running === 0) {
      await this.finish(job.experimentId, 'EXHAUSTED', null, context, true);
    }
  }

  // ------------------------------------------------------------- helpers

  private require(experimentId: string): ExperimentView {
    const experiment = this.deps.queries.experiment(experimentId);
    if (!experiment) throw notFound(`experiment ${experimentId} not found`);
    return experiment;
  }

  private peekIndex(experimentId: string): number {
    return Math.max(this.cursors.get(experimentId) ?? 0, this.deps.queries.nextTrialIndex(experimentId));
  }

  private inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    this.turns.set(key, mine.catch(() => undefined));
    return mine;
  }

  private async execute(
    experimentId: string,
    command: ExperimentCommand,
    context: CommandContext,
    retries = RACE_RETRIES,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.deps.repository.load(experimentId);
      const events = decideExperiment(state, command);
      try {
        const { position } = await this.deps.repository.append(experimentId, events, revision, context);
        await this.deps.waitForReadModels(position);
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (command.type === 'CreateExperiment') {
          throw conflict(`an experiment named ${JSON.stringify(command.settings.name)} exists already`);
        }
        if (attempt >= retries) throw conflict('the experiment changed concurrently; try again');
      }
    }
  }
}
