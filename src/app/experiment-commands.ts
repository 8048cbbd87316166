/**
 * Experiment mutations, and what experiments add to the job commands:
 * trials handed out by claims, the stop threshold and an exhausted search
 * after a job ends (see `ExperimentHooks` in experiment-hooks.ts). Early
 * stopping is the report's own decision (see early-stopping-inputs.ts).
 */
import { createHash, randomInt } from 'node:crypto';
import { DomainError, badInput, conflict, notFound } from '../domain/errors.js';
import { decideExperiment, type ExperimentCommand } from '../domain/experiment/decide.js';
import { firstGeneration, nextGeneration, nextSteps, slotOf } from '../domain/experiment/pbt.js';
import { maxJobs, schedulerKind, trialAt } from '../domain/experiment/schedulers.js';
import { bracketOf, hyperbandBudgets } from '../domain/experiment/hyperband.js';
import { proposeTpe } from '../domain/experiment/tpe/propose.js';
import { experimentSettings, type SettingsLimits } from '../domain/experiment/settings.js';
import type { Json } from '../domain/job/events.js';
import type { ExperimentQueries, ExperimentView } from '../../projections/experiments-queries.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import { causedBy, type CommandContext } from './command-context.js';
import type { ExperimentRepository } from './experiment-repository.js';
import type { Claim, ExperimentHooks, TrialSpec } from './experiment-hooks.js';
import type { JobCommands } from './job-commands.js';
import { tpeTrialsOf } from './tpe-inputs.js';
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
  /** What a new experiment's settings may hold (src/limits.ts). */
  limits: SettingsLimits;
  /** Tells live leases from expired ones (TPE's constant liar). */
  clock?: () => Date;
}

export class ExperimentCommands implements ExperimentHooks {
  /** Per experiment with maxConcurrent: claims in this process take turns, so the cap holds here. */
  private readonly turns = new Map<string, Promise<unknown>>();
  /** The next trial slot this process will try, per experiment (the read model may lag). */
  private readonly cursors = new Map<string, number>();

  /** A new experiment's settings, checked against the configured limits (built once). */
  private readonly settingsInput: ReturnType<typeof experimentSettings>;

  constructor(private readonly deps: ExperimentCommandDeps) {
    this.settingsInput = experimentSettings(deps.limits);
  }

  async createExperiment(rawInput: unknown, context: CommandContext): Promise<string> {
    const settings = parseInput(this.settingsInput, rawInput);
    // A seed chosen here is recorded, so the trials stay the same across restarts.
    for (const seeded of [settings.scheduler.random, settings.scheduler.pbt, settings.scheduler.tpe]) {
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
    let alreadyDone: DomainError | undefined;
    let finishedEventId: string | undefined;
    try {
      finishedEventId = await this.execute(experimentId, { type: 'FinishExperiment', reason, jobId }, context);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'CONFLICT')) throw error;
      alreadyDone = error;
    }
    // The sweep runs even when the experiment was DONE already: a finish that was
    // interrupted halfway is completed by the next one. Its cancels are caused by the finish.
    await this.cancelUnfinishedJobs(experimentId, reason, causedBy(context, finishedEventId));
    if (alreadyDone && !quietIfDone) throw alreadyDone;
  }

  private async cancelUnfinishedJobs(experimentId: string, reason: string, context: CommandContext): Promise<void> {
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

  admitJob(
    experimentId: string,
    hyperparameters: Record<string, Json>,
  ): { firstIndex: number; limit: number | null; total: number } {
    const experiment = this.require(experimentId);
    if (experiment.status === 'DONE') throw conflict('the experiment is DONE', { status: 'DONE' });
    const kind = schedulerKind(experiment.settings);
    if (kind === 'GRID' || kind === 'PBT') throw badInput(`a ${kind} experiment creates its own jobs`);
    const space = experiment.settings.scheduler.random?.space ?? experiment.settings.scheduler.tpe?.space;
    if (space) {
      const expected = space.map((p) => p.name).sort();
      const given = Object.keys(hyperparameters).sort();
      if (expected.join('\u0000') !== given.join('\u0000')) {
        throw badInput(`hyperparameters must be exactly the space's parameters: ${expected.join(', ')}`, {
          field: 'hyperparameters',
        });
      }
    }
    return {
      firstIndex: this.peekIndex(experimentId),
      limit: maxJobs(experiment.settings),
      total: this.deps.queries.jobCounts(experimentId).total,
    };
  }

  poolOrder(workerLabels: readonly string[], withCommand: boolean): string[] {
    const offered = new Set(workerLabels);
    return this.deps.queries
      .poolCandidates()
      .filter((e) => e.labels.every((label) => offered.has(label)))
      .filter((e) => !withCommand || e.hasCommand)
      .map((e) => ({ id: e.id, load: this.deps.queries.runningCount(e.id) / e.priority }))
      .sort((a, b) => a.load - b.load)
      .map((e) => e.id);
  }

  async claim(
    experimentId: string,
    context: CommandContext,
    claimQueued: () => Promise<Claim | null>,
    createTrial: (trial: TrialSpec) => Promise<Claim | null | 'taken'>,
  ): Promise<Claim | null> {
    const experiment = this.require(experimentId);
    if (experiment.status !== 'RUNNING') return null;
    // Every trial's job carries the experiment's labels, and the command its trials run.
    const { labels, command } = experiment.settings;
    const createAndClaim = (trial: TrialSpec) =>
      createTrial({
        ...trial,
        labels: labels ?? [],
        params: command ? { ...(trial.params ?? {}), command } : trial.params,
      });
    const cap = experiment.settings.maxConcurrent;
    const attempt = async (): Promise<Claim | null> => {
      if (cap !== null && this.deps.queries.runningCount(experimentId) >= cap) return null;
      const queued = await claimQueued();
      if (queued) return queued;
      if (experiment.settings.scheduler.pbt) return this.claimPbt(experiment, claimQueued, createAndClaim);
      for (let tries = 0; tries < 1000; tries++) {
        const index = this.peekIndex(experimentId);
        const trial = this.nextTrial(experiment, index);
        if (trial === null) {
          await this.finishIfExhausted(experimentId, context);
          return null;
        }
        this.cursors.set(experimentId, index + 1);
        let result: Claim | null | 'taken';
        try {
          result = await createAndClaim(trial);
        } catch (error) {
          // The slot may have stayed empty: offer it again.
          this.cursors.set(experimentId, Math.min(this.cursors.get(experimentId) ?? index, index));
          throw error;
        }
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
    const claimed = await (cap === null ? attempt() : this.inTurn(experimentId, attempt));
    return claimed && (await this.unlessFinishedMeanwhile(experimentId, claimed, context));
  }

  /**
   * The trial for slot `index`, or null past the search's limit. TPE weighs
   * the search's trials as they stand now, and its decision goes into the
   * trial's JobCreated; two claimers proposing for one slot meet on its
   * stream, and the loser moves on to the next.
   */
  private nextTrial(experiment: ExperimentView, index: number): TrialSpec | null {
    const { tpe } = experiment.settings.scheduler;
    if (!tpe) {
      const hyperparameters = trialAt(experiment.settings, index);
      return hyperparameters && { index, hyperparameters };
    }
    if (index >= tpe.maxJobs) return null;
    const objective = experiment.settings.objective!;
    const { rows, bracket } = this.bracketTrials(
      experiment,
      index,
      this.deps.queries.tpeTrials(
        experiment.id,
        objective.metric,
        tpe.space.filter((p) => p.distribution.constant === undefined).map((p) => p.name),
      ),
    );
    const now = this.deps.clock?.() ?? new Date();
    const { hyperparameters, decision } = proposeTpe(
      { ...tpe, seed: tpe.seed! },
      objective.direction,
      tpeTrialsOf(rows, now),
      index,
    );
    return { index, hyperparameters, decision: bracket === null ? decision : { ...decision, bracket } };
  }

  /**
   * Under Hyperband the sampler sees only the trials of the new trial's own
   * bracket (as Optuna documents it), once the brackets are known.
   */
  private bracketTrials<R extends { trialIndex: number }>(
    experiment: ExperimentView,
    index: number,
    rows: R[],
  ): { rows: R[]; bracket: number | null } {
    const hyperband = experiment.settings.earlyStopping?.hyperband;
    if (!hyperband) return { rows, bracket: null };
    const metric = experiment.settings.objective!.metric;
    const budgets = hyperbandBudgets(hyperband, () => this.deps.queries.firstCompletedLastStep(experiment.id, metric));
    if (!budgets) return { rows, bracket: null };
    const name = experiment.settings.name;
    const bracket = bracketOf(name, index, budgets);
    return { rows: rows.filter((r) => bracketOf(name, r.trialIndex, budgets) === bracket), bracket };
  }

  /**
   * A finish that landed while this claim was under way has swept the jobs it
   * could see; this one it may not have. The experiment's own stream decides:
   * finished means the claim is undone (the job cancelled) and nothing handed out.
   */
  private async unlessFinishedMeanwhile(
    experimentId: string,
    claimed: Claim,
    context: CommandContext,
  ): Promise<Claim | null> {
    const { state } = await this.deps.repository.load(experimentId);
    if (state?.status !== 'DONE') return claimed;
    try {
      await this.deps.jobs.cancelJob({ jobId: claimed.jobId, reason: 'experiment finished' }, context);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'CONFLICT')) throw error;
    }
    return null;
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
    // The least advanced member first; each compared with the others' results of the same generation.
    for (const step of nextSteps(pbt, jobs)) {
      const next = nextGeneration(pbt, direction, step.own, step.population, step.generation);
      // Read only for the parent: the artifacts of every other trial stay unread.
      const parent = this.deps.jobQueries.job(next.parentId)!;
      const claimed = await take({
        index: slotOf(pbt, step.member, step.generation),
        hyperparameters: next.hyperparameters,
        generation: step.generation,
        parentId: next.parentId,
        // The worker loads the weights it starts from out of the parent's artifacts.
        params: { checkpointFrom: parent.artifacts as unknown as Json },
        decision: next.decision,
        // This generation follows from the member's previous job ending.
        causationId: await this.deps.jobs.lastEventOf(step.endedJobId),
      });
      if (claimed) return claimed;
    }
    await this.finishIfExhausted(experiment.id, { actor: 'system', correlationId: experiment.id });
    return null;
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
    await this.finishIfExhausted(job.experimentId, context, experiment);
  }

  // ------------------------------------------------------------- helpers

  private require(experimentId: string): ExperimentView {
    const experiment = this.deps.queries.experiment(experimentId);
    if (!experiment) throw notFound(`experiment ${experimentId} not found`);
    return experiment;
  }

  private peekIndex(experimentId: string): number {
    return Math.max(this.cursors.get(experimentId) ?? 0, this.deps.queries.firstFreeSlot(experimentId));
  }

  /**
   * The search is exhausted once every trial slot has a job (counted: slots
   * being created right now are not) and none is queued or running: DONE.
   */
  private async finishIfExhausted(
    experimentId: string,
    context: CommandContext,
    /** The experiment as the caller just read it (not read again). */
    experiment = this.require(experimentId),
  ): Promise<void> {
    const limit = maxJobs(experiment.settings);
    if (experiment.status === 'DONE' || limit === null || schedulerKind(experiment.settings) === 'MANUAL') return;
    const counts = this.deps.queries.jobCounts(experimentId);
    if (this.deps.queries.trialCount(experimentId) >= limit && counts.queued + counts.running === 0) {
      await this.finish(experimentId, 'EXHAUSTED', null, context, true);
    }
  }

  private inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    this.turns.set(
      key,
      mine.catch(() => undefined),
    );
    return mine;
  }

  private async execute(
    experimentId: string,
    command: ExperimentCommand,
    context: CommandContext,
    retries = RACE_RETRIES,
  ): Promise<string | undefined> {
    const { lastEventId } = await this.deps.repository.change(
      experimentId,
      (state) => decideExperiment(state, command),
      context,
      {
        retries,
        readModels: this.deps.waitForReadModels,
        onLostRace: () =>
          command.type === 'CreateExperiment'
            ? conflict(`an experiment named ${JSON.stringify(command.settings.name)} exists already`)
            : conflict('the experiment changed concurrently; try again'),
      },
    );
    return lastEventId;
  }
}
