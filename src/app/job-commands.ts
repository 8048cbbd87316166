/**
 * The job lifecycle commands: validate the input, decide on the job's state
 * (Repository.change: load, decide, append at the loaded revision, a lost
 * race decided again on fresh state) and answer only once the read models
 * include the new events. What follows a change (the experiment's "a job
 * ended") runs after it, once. Which job a claim gets is job-claims.ts's.
 */
import { createHash } from 'node:crypto';
import { DomainError, conflict, notFound } from '../domain/errors.js';
import { decideJob, type JobCommand } from '../domain/job/decide.js';
import type { NewJobEvent } from '../domain/job/events.js';
import type { JobState } from '../domain/job/state.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import type { EventStore } from '../store/port.js';
import { causedBy, type CommandContext } from './command-context.js';
import type { EarlyStoppingInputs } from './early-stopping-inputs.js';
import type { Claim, ExperimentHooks } from './experiment-hooks.js';
import { JobClaims } from './job-claims.js';
import { hashLeaseToken, newJobId, trialJobId, type NewJobData } from './job-ids.js';
import { jobInputs, type JobInputs } from './job-inputs.js';
import type { Limits } from '../limits.js';
import type { JobRepository } from './job-repository.js';
import type { ChangeOptions, Changed } from './repository.js';
import { parseInput } from './validation.js';

export interface JobCommandDeps {
  repository: JobRepository;
  /** Where worker-chosen lease tokens record their claims (see domain/job/lease-token.ts). */
  store: EventStore;
  queries: JobQueries;
  /** What an experiment's early-stopping rule judges a report against (read before the report decides). */
  earlyStopping: EarlyStoppingInputs;
  /** Resolves once the read models include the event at this position. */
  waitForReadModels: (position: string) => Promise<void>;
  /** What an input may hold (src/limits.ts). */
  limits: Limits;
  clock?: () => Date;
}

export interface LeaseInfo {
  leaseToken: string;
  leaseExpiresAt: string;
  cancelRequested: boolean;
}

/** A numbered worker call's digest, of what it sent: a retry has the same, another call with the same number not. */
const callDigest = (call: unknown) =>
  createHash('sha256').update(JSON.stringify(call)).digest('base64url').slice(0, 22);

export class JobCommands {
  private readonly clock: () => Date;
  private experiments: ExperimentHooks | undefined;
  private readonly claims: JobClaims;
  /** Each command's input schema, built once with the configured limits. */
  private readonly inputs: JobInputs;

  constructor(private readonly deps: JobCommandDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.inputs = jobInputs(deps.limits);
    this.claims = new JobClaims({
      inputs: this.inputs,
      repository: deps.repository,
      store: deps.store,
      queries: deps.queries,
      waitForReadModels: deps.waitForReadModels,
      clock: this.clock,
      experiments: () => this.experiments,
    });
  }

  /** Experiments and jobs refer to each other; the composition root ties them. */
  attachExperiments(experiments: ExperimentHooks): void {
    this.experiments = experiments;
  }

  async createJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.createJob, rawInput);
    const { idempotencyKey, experimentId, ...fields } = input;
    const base = { ...fields, experimentId, idempotencyKey, generation: 0, parentId: null, decision: null };
    if (idempotencyKey !== null) {
      const jobId = newJobId(idempotencyKey);
      // The key was used before: answer with the job it created.
      if ((await this.deps.repository.load(jobId)).revision !== undefined) return this.awaitJobInReadModel(jobId);
      if (experimentId !== null) {
        // A keyed job takes no trial slot; it counts against the experiment's limit all the same.
        const { limit, total } = this.experimentHooks(experimentId).admitJob(experimentId, input.hyperparameters);
        if (limit !== null && total >= limit) throw conflict(`the experiment has all its ${limit} jobs`);
      }
      if (await this.createOnce(jobId, { ...base, jobId, trialIndex: null }, context)) return jobId;
      return this.awaitJobInReadModel(jobId);
    }
    if (experimentId === null) {
      const jobId = newJobId(null);
      // A new random id: no stream to read before deciding.
      await this.change(jobId, () => ({ type: 'CreateJob', ...base, jobId, trialIndex: null }), context, {
        retries: 0,
        loaded: { state: undefined, revision: undefined, position: undefined },
      });
      return jobId;
    }
    // In an experiment, a job takes the next free trial slot, below the experiment's limit.
    const { firstIndex, limit } = this.experimentHooks(experimentId).admitJob(experimentId, input.hyperparameters);
    for (let index = firstIndex; limit === null || index < limit; index++) {
      const jobId = trialJobId(experimentId, index);
      if (await this.createOnce(jobId, { ...base, jobId, trialIndex: index }, context)) return jobId;
    }
    throw conflict(`the experiment has all its ${limit} jobs`);
  }

  /** Creates the job unless its stream exists: false when it does. */
  async createJobIfAbsent(data: NewJobData, context: CommandContext): Promise<boolean> {
    return this.createOnce(data.jobId, data, context);
  }

  /** Queues the job again to train with a newer algorithm version; false when it was at that version already. */
  async retrainJob(jobId: string, algorithmVersion: number, context: CommandContext): Promise<boolean> {
    const { events } = await this.change(jobId, () => ({ type: 'RetrainJob', algorithmVersion }), context);
    return events.length > 0;
  }

  /** Cancels the job if it is still queued or running; a finished job is left as it ended. */
  async cancelIfActive(jobId: string, reason: string, context: CommandContext): Promise<void> {
    try {
      await this.change(jobId, () => ({ type: 'CancelJob', reason }), context);
    } catch (error) {
      // Only "it has ended" is fine (that conflict names the status); a lost race is not.
      if (!(error instanceof DomainError && error.code === 'CONFLICT' && error.details.status !== undefined))
        throw error;
    }
  }

  /** The id of the job's latest event. */
  async lastEventOf(jobId: string): Promise<string | undefined> {
    return (await this.deps.repository.load(jobId)).lastEventId;
  }

  private async createOnce(jobId: string, data: NewJobData, context: CommandContext): Promise<boolean> {
    try {
      await this.change(jobId, () => ({ type: 'CreateJob', ...data }), context, { retries: 0 });
      return true;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CONFLICT') return false;
      throw error;
    }
  }

  private experimentHooks(experimentId: string): ExperimentHooks {
    if (!this.experiments) throw notFound(`experiment ${experimentId} not found`);
    return this.experiments;
  }

  async claimJob(rawInput: unknown, context: CommandContext): Promise<Claim | null> {
    return this.claims.claimJob(rawInput, context);
  }

  async heartbeat(rawInput: unknown, context: CommandContext): Promise<LeaseInfo> {
    const input = parseInput(this.inputs.heartbeat, rawInput);
    const now = this.clock();
    const { events } = await this.change(
      input.jobId,
      () => ({
        type: 'Heartbeat',
        leaseTokenHash: hashLeaseToken(input.leaseToken),
        progress: input.progress,
        leaseSeconds: input.leaseSeconds,
        now,
      }),
      context,
    );
    const extended = events.find((e) => e.type === 'JobHeartbeat');
    if (extended?.type === 'JobHeartbeat') {
      return { leaseToken: input.leaseToken, leaseExpiresAt: extended.data.leaseExpiresAt, cancelRequested: false };
    }
    // No event: the job was cancelled. Its lease ends now, and the worker should stop.
    return { leaseToken: input.leaseToken, leaseExpiresAt: now.toISOString(), cancelRequested: true };
  }

  async reportMetric(rawInput: unknown, context: CommandContext): Promise<{ jobId: string; shouldStop: boolean }> {
    const { jobId, leaseToken, sequence, ...point } = parseInput(this.inputs.reportMetric, rawInput);
    return this.reportPoints(jobId, leaseToken, [point], sequence, context);
  }

  async reportMetrics(rawInput: unknown, context: CommandContext): Promise<{ jobId: string; shouldStop: boolean }> {
    const input = parseInput(this.inputs.reportMetrics, rawInput);
    return this.reportPoints(input.jobId, input.leaseToken, input.points, input.sequence, context);
  }

  private async reportPoints(
    jobId: string,
    leaseToken: string,
    points: Extract<JobCommand, { type: 'ReportMetrics' }>['points'],
    sequence: number | null,
    context: CommandContext,
  ): Promise<{ jobId: string; shouldStop: boolean }> {
    const now = this.clock();
    const { events, state, lastEventId } = await this.change(
      jobId,
      (job) => ({
        type: 'ReportMetrics',
        leaseTokenHash: hashLeaseToken(leaseToken),
        points,
        now,
        sequence,
        digest: sequence === null ? null : callDigest(points),
        // Read before deciding, on the state decided on: the rungs and a prune go in the report's own append.
        earlyStopping: job ? this.deps.earlyStopping.judging(job) : null,
      }),
      context,
      // The rungs and the pruning the report decided follow from it: their cause is the report's event.
      {
        contexts: (decided) =>
          decided.map((_e, i) => (i === 0 ? context : (ids: readonly string[]) => causedBy(context, ids[0]))),
      },
    );
    // A retried call: nothing was written; it answers as the first one did.
    if (events.length === 0) return { jobId, shouldStop: state?.status === 'PRUNED' };
    const pruned = events.some((e) => e.type === 'JobPruned');
    if (pruned) await this.experiments?.afterJobEnded(jobId, causedBy(context, lastEventId));
    return { jobId, shouldStop: pruned };
  }

  async appendLog(rawInput: unknown, context: CommandContext): Promise<{ firstOffset: number; nextOffset: number }> {
    const input = parseInput(this.inputs.appendLog, rawInput);
    const { events, state } = await this.change(
      input.jobId,
      () => ({
        type: 'AppendLog',
        leaseTokenHash: hashLeaseToken(input.leaseToken),
        lines: input.lines,
        stream: input.stream,
        sequence: input.sequence,
        digest: input.sequence === null ? null : callDigest([input.stream, input.lines]),
      }),
      context,
    );
    const appended = events.find((e) => e.type === 'JobLogAppended');
    if (appended?.type !== 'JobLogAppended') {
      // A retry of the last numbered append answers as it did; otherwise the log stands where it was.
      const last = state?.logSequence;
      if (last && last.sequence === input.sequence)
        return { firstOffset: last.firstOffset, nextOffset: last.nextOffset };
      const offset = state?.nextLogOffset ?? 0;
      return { firstOffset: offset, nextOffset: offset };
    }
    const { firstOffset, lines } = appended.data;
    return { firstOffset, nextOffset: firstOffset + lines.length };
  }

  async completeJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.completeJob, rawInput);
    const { lastEventId } = await this.change(
      input.jobId,
      () => ({
        type: 'CompleteJob',
        leaseTokenHash: hashLeaseToken(input.leaseToken),
        result: input.result,
        artifacts: input.artifacts,
      }),
      context,
    );
    await this.experiments?.afterJobEnded(input.jobId, causedBy(context, lastEventId));
    return input.jobId;
  }

  async failJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.failJob, rawInput);
    const { events, lastEventId } = await this.change(
      input.jobId,
      () => ({
        type: 'FailJob',
        leaseTokenHash: hashLeaseToken(input.leaseToken),
        error: input.error,
        retry: input.retry,
      }),
      context,
    );
    const failed = events.find((e) => e.type === 'JobFailed');
    if (failed?.type === 'JobFailed' && !failed.data.requeued) {
      await this.experiments?.afterJobEnded(input.jobId, causedBy(context, lastEventId));
    }
    return input.jobId;
  }

  /** The worker hands the job back unfinished; it is queued again without using an attempt. */
  async releaseJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.releaseJob, rawInput);
    await this.change(
      input.jobId,
      () => ({ type: 'ReleaseJob', leaseTokenHash: hashLeaseToken(input.leaseToken), reason: input.reason }),
      context,
    );
    return input.jobId;
  }

  async cancelJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.cancelJob, rawInput);
    const { lastEventId } = await this.change(
      input.jobId,
      () => ({ type: 'CancelJob', reason: input.reason }),
      context,
    );
    await this.experiments?.afterJobEnded(input.jobId, causedBy(context, lastEventId));
    return input.jobId;
  }

  async retryJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(this.inputs.retryJob, rawInput);
    await this.change(input.jobId, () => ({ type: 'RetryJob' }), context);
    return input.jobId;
  }

  /**
   * The job's change through the one command path, answered once the read
   * models include it. A lost race is decided again on fresh state; past the
   * retries it is CONFLICT.
   */
  private change(
    jobId: string,
    command: (state: JobState | undefined) => JobCommand,
    context: CommandContext,
    options: Pick<ChangeOptions<JobState, NewJobEvent>, 'retries' | 'contexts' | 'loaded'> = {},
  ): Promise<Changed<JobState, NewJobEvent>> {
    return this.deps.repository.change(jobId, (state) => decideJob(state, command(state)), context, {
      ...options,
      onLostRace: () => conflict('the job changed concurrently; try again'),
      readModels: this.deps.waitForReadModels,
    });
  }

  /** A job created by another request (same idempotency key) is answered once it is readable. */
  private async awaitJobInReadModel(jobId: string): Promise<string> {
    const { position } = await this.deps.repository.load(jobId);
    if (position === undefined) throw notFound(`job ${jobId} not found`);
    await this.deps.waitForReadModels(position);
    return jobId;
  }
}
