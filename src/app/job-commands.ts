/**
 * The job mutations: validate the input, load the job's stream, decide,
 * append with the revision it was loaded at, and answer only once the read
 * models include the new events. A lost optimistic race is retried on fresh
 * state; the domain re-checks every rule each time.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DomainError, conflict, notFound } from '../domain/errors.js';
import { decide, isClaimable, type JobCommand } from '../domain/job/decide.js';
import type { EarlyStopping } from '../domain/job/early-stopping.js';
import type { Json, NewJobEvent } from '../domain/job/events.js';
import { foldJob, type JobState } from '../domain/job/state.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import {
  LEASE_TOKEN_EVENT_VERSION,
  evolveLeaseToken,
  leaseTokenEventSchemas,
  leaseTokenKey,
  leaseTokenStreamId,
  parseLeaseTokenEvent,
  type LeaseTokenEvent,
  type LeaseTokenState,
  type NewLeaseTokenEvent,
} from '../domain/job/lease-token.js';
import { WrongExpectedRevisionError, type EventStore } from '../store/port.js';
import { Repository } from './repository.js';
import { causedBy, type CommandContext, type EventContext } from './command-context.js';
import {
  AppendLogInput,
  CancelJobInput,
  ClaimJobInput,
  CompleteJobInput,
  CreateJobInput,
  FailJobInput,
  ReleaseJobInput,
  HeartbeatInput,
  ReportMetricInput,
  ReportMetricsInput,
  RetryJobInput,
} from './job-inputs.js';
import type { JobRepository } from './job-repository.js';
import { parseInput } from './validation.js';

const RACE_RETRIES = 10;
const CLAIM_BATCH = 32;
const CLAIM_ROUNDS = 20;
/**
 * A token reserved this long ago whose claim never settled (its process died
 * before taking a job) may be reserved again by a resend. A live claim
 * settles within seconds; a resend meanwhile waits for it.
 */
const ABANDONED_TOKEN_MS = 30_000;
const TOKEN_POLL_MS = 20;

/** Another request with the same lease token reserved it first: answer with what that one claims. */
class TokenTakenError extends Error {}

/**
 * One claim's hold on its worker-chosen token: reserved in the token's stream
 * right before the first append that would give the token a job, so a claim
 * that finds nothing writes nothing, and of two claims with one token only
 * one ever appends a JobClaimed with it.
 */
class TokenReservation {
  private reservedAt: bigint | undefined;
  private held = false;

  constructor(
    private readonly tokens: Repository<LeaseTokenState, LeaseTokenEvent, NewLeaseTokenEvent>,
    private readonly key: string,
    private readonly revision: bigint | undefined,
    private readonly workerId: string,
    private readonly context: CommandContext,
  ) {}

  async hold(): Promise<void> {
    if (this.held) return;
    try {
      const { nextExpectedRevision } = await this.tokens.append(
        this.key,
        [{ type: 'LeaseTokenReserved', data: { workerId: this.workerId } }],
        this.revision,
        this.context,
      );
      this.reservedAt = nextExpectedRevision;
      this.held = true;
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) throw new TokenTakenError();
      throw error;
    }
  }

  /** Records what the claim took (null: nothing, and the token is free again). */
  async settle(claim: Claim | null): Promise<void> {
    if (!this.held) return;
    await this.tokens.append(
      this.key,
      [
        {
          type: 'LeaseTokenSettled',
          data: { jobId: claim?.jobId ?? null, leaseExpiresAt: claim?.leaseExpiresAt ?? null },
        },
      ],
      this.reservedAt,
      this.context,
    );
  }
}

export interface JobCommandDeps {
  repository: JobRepository;
  /** Where worker-chosen lease tokens record their claims (see domain/job/lease-token.ts). */
  store: EventStore;
  queries: JobQueries;
  /** Resolves once the read models include the event at this position. */
  waitForReadModels: (position: string) => Promise<void>;
  clock?: () => Date;
}

/** What experiments add around job commands (implemented in experiment-commands.ts). */
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
  /** Before metrics: the early-stopping rule that judges the job's reports, with what it compares against. */
  earlyStopping(jobId: string): EarlyStopping | null;
  /** After a job ended (succeeded, failed for good, pruned, cancelled): the stop threshold, an exhausted search. */
  afterJobEnded(jobId: string, context: CommandContext): Promise<void>;
}

export type NewJobData = Omit<Extract<JobCommand, { type: 'CreateJob' }>, 'type'>;

/** A job made by Trialog itself (a trial, a mapping's job): the contract's defaults, then what it sets. */
export function jobData(jobId: string, fields: Partial<NewJobData>): NewJobData {
  return {
    jobId,
    experimentId: null,
    hyperparameters: {},
    params: {},
    algorithmId: null,
    algorithmVersion: null,
    trainingData: null,
    priority: 0,
    labels: [],
    maxAttempts: 3,
    idempotencyKey: null,
    generation: 0,
    parentId: null,
    trialIndex: null,
    decision: null,
    ...fields,
  };
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
}

/** A trial's job id is derived from its slot: racing creators of one slot meet on one stream. */
export const trialJobId = (experimentId: string, index: number) =>
  `job_t${createHash('sha256').update(`${experimentId}:${index}`).digest('hex').slice(0, 31)}`;

export interface Claim {
  jobId: string;
  leaseToken: string;
  leaseExpiresAt: string;
}

export interface LeaseInfo {
  leaseToken: string;
  leaseExpiresAt: string;
  cancelRequested: boolean;
}

export const hashLeaseToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A numbered worker call's digest, of what it sent: a retry has the same, another call with the same number not. */
const callDigest = (call: unknown) =>
  createHash('sha256').update(JSON.stringify(call)).digest('base64url').slice(0, 22);

/** Job ids: random, or derived from an idempotency key so a retried create finds the first job. */
export function newJobId(idempotencyKey: string | null): string {
  if (idempotencyKey === null) return `job_${randomUUID().replaceAll('-', '')}`;
  return `job_k${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

export class JobCommands {
  private readonly clock: () => Date;
  /** Jobs this process is claiming right now: other claimers here skip them. */
  private readonly claiming = new Set<string>();
  /** Claims in progress by the hash of a worker-chosen lease token: a repeat waits for the first. */
  private readonly claimsByToken = new Map<string, Promise<Claim | null>>();
  private experiments: ExperimentHooks | undefined;
  private readonly tokens: Repository<LeaseTokenState, LeaseTokenEvent, NewLeaseTokenEvent>;

  constructor(private readonly deps: JobCommandDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.tokens = new Repository(deps.store, {
      streamId: leaseTokenStreamId,
      parse: parseLeaseTokenEvent,
      evolve: evolveLeaseToken,
      schemas: leaseTokenEventSchemas,
      schemaVersion: () => LEASE_TOKEN_EVENT_VERSION,
    });
  }

  /** Experiments and jobs refer to each other; the composition root ties them. */
  attachExperiments(experiments: ExperimentHooks): void {
    this.experiments = experiments;
  }

  async createJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(CreateJobInput, rawInput);
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
      await this.execute(jobId, () => ({ type: 'CreateJob', ...base, jobId, trialIndex: null }), context, {
        retries: 0,
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
    const { events } = await this.execute(jobId, () => ({ type: 'RetrainJob', algorithmVersion }), context);
    return events.length > 0;
  }

  /** Cancels the job if it is still queued or running; a finished job is left as it ended. */
  async cancelIfActive(jobId: string, reason: string, context: CommandContext): Promise<void> {
    try {
      await this.execute(jobId, () => ({ type: 'CancelJob', reason }), context);
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
      await this.execute(jobId, () => ({ type: 'CreateJob', ...data }), context, { retries: 0 });
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
    const input = parseInput(ClaimJobInput, rawInput);
    if (input.leaseToken === null) return this.claimWithToken(input, randomBytes(32).toString('base64url'), context);
    // A worker that chose its token may send the same claim again after losing the answer, to this
    // process or another: one claim per token, and a repeat answers with the job the first one took.
    const leaseToken = input.leaseToken;
    const leaseTokenHash = hashLeaseToken(leaseToken);
    const inFlight = this.claimsByToken.get(leaseTokenHash);
    if (inFlight) return inFlight;
    const claim = this.claimOnce(input, leaseToken, leaseTokenHash, context).finally(() =>
      this.claimsByToken.delete(leaseTokenHash),
    );
    this.claimsByToken.set(leaseTokenHash, claim);
    return claim;
  }

  /** A claim with a worker-chosen token, unique in the token's stream (see TokenReservation). */
  private async claimOnce(
    input: ClaimJobInput,
    leaseToken: string,
    leaseTokenHash: string,
    context: CommandContext,
  ): Promise<Claim | null> {
    const key = leaseTokenKey(leaseTokenHash);
    for (;;) {
      const { state, revision } = await this.tokens.load(key);
      if (state?.status === 'claimed') {
        // Perhaps claimed by another process: answer once this one's read models show the claim.
        const { position } = await this.deps.repository.load(state.jobId);
        if (position) await this.deps.waitForReadModels(position);
        return this.claimOf(state.jobId, leaseToken, leaseTokenHash, state.leaseExpiresAt);
      }
      if (state?.status === 'reserved') {
        // Another request with this token is claiming (here or in another process): its answer is ours.
        // If it died after taking a job, the job is running under the token; if before, the token is free
        // once the reservation is old enough to be abandoned.
        const held = this.deps.queries
          .runningJobsOf(state.workerId)
          .find((job) => job.leaseTokenHash === leaseTokenHash);
        if (held) return { jobId: held.id, leaseToken, leaseExpiresAt: held.leaseExpiresAt! };
        if (this.clock().getTime() - Date.parse(state.at) < ABANDONED_TOKEN_MS) {
          await new Promise((resolve) => setTimeout(resolve, TOKEN_POLL_MS));
          continue;
        }
      }
      const reservation = new TokenReservation(this.tokens, key, revision, input.workerId, context);
      let claim: Claim | null;
      try {
        claim = await this.claimWithToken(input, leaseToken, context, () => reservation.hold());
      } catch (error) {
        if (error instanceof TokenTakenError) continue;
        throw error;
      }
      await reservation.settle(claim);
      return claim;
    }
  }

  /** The job a token's claim took, with its lease as it stands now (or as it was, if the job moved on). */
  private claimOf(jobId: string, leaseToken: string, leaseTokenHash: string, leaseExpiresAt: string): Claim {
    const job = this.deps.queries.job(jobId);
    const current = job?.leaseTokenHash === leaseTokenHash ? job.leaseExpiresAt : null;
    return { jobId, leaseToken, leaseExpiresAt: current ?? leaseExpiresAt };
  }

  private async claimWithToken(
    input: ClaimJobInput,
    leaseToken: string,
    context: CommandContext,
    beforeClaiming: () => Promise<void> = async () => {},
  ): Promise<Claim | null> {
    const leaseTokenHash = hashLeaseToken(leaseToken);
    const claimQueued = () => this.claimQueued(input, leaseToken, leaseTokenHash, context, beforeClaiming);
    if (input.experimentId === null) return claimQueued();
    const experimentId = input.experimentId;
    return this.experimentHooks(experimentId).claim(experimentId, context, claimQueued, async (trial) => {
      const jobId = trialJobId(experimentId, trial.index);
      const data = jobData(jobId, {
        experimentId,
        hyperparameters: trial.hyperparameters,
        params: trial.params ?? {},
        generation: trial.generation ?? 0,
        parentId: trial.parentId ?? null,
        trialIndex: trial.index,
        decision: trial.decision ?? null,
      });
      const leaseExpiresAt = await this.createClaimed(
        jobId,
        data,
        causedBy(context, trial.causationId),
        input,
        leaseTokenHash,
        context,
        beforeClaiming,
      );
      return leaseExpiresAt ? { jobId, leaseToken, leaseExpiresAt } : 'taken';
    });
  }

  /**
   * A new trial, created and claimed in one append (its creation and its
   * claim keep their own causes). Undefined when another claimer created that
   * trial first.
   */
  private async createClaimed(
    jobId: string,
    data: NewJobData,
    createdContext: CommandContext,
    input: ClaimJobInput,
    leaseTokenHash: string,
    claimContext: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<string | undefined> {
    await beforeClaiming();
    const now = this.clock();
    const created = decide(undefined, { type: 'CreateJob', ...data });
    const queued = foldJob(created.map((e) => ({ ...e, timestamp: now.toISOString() })));
    const claimed = decide(queued, {
      type: 'ClaimJob',
      workerId: input.workerId,
      leaseTokenHash,
      leaseSeconds: input.leaseSeconds,
      now,
    });
    const claim = claimed[0];
    if (claimed.length !== 1 || claim?.type !== 'JobClaimed')
      throw new Error(`a new job's claim decided ${claimed.map((e) => e.type).join(', ')}`);
    try {
      const { position } = await this.deps.repository.append(jobId, [...created, claim], undefined, [
        createdContext,
        claimContext,
      ]);
      await this.deps.waitForReadModels(position);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
    return claim.data.leaseExpiresAt;
  }

  /** The best queued (or lease-expired) job this worker may take, or null. */
  private async claimQueued(
    input: ClaimJobInput,
    leaseToken: string,
    leaseTokenHash: string,
    context: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<Claim | null> {
    const tried = new Set<string>();
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const candidates = this.deps.queries
        .claimCandidates({
          experimentId: input.experimentId,
          algorithmIds: input.algorithmIds,
          labels: input.labels,
          now: this.clock().toISOString(),
          limit: CLAIM_BATCH + tried.size,
        })
        .filter((id) => !tried.has(id));
      if (candidates.length === 0) return null;
      for (const jobId of candidates) {
        tried.add(jobId);
        if (this.claiming.has(jobId)) continue;
        this.claiming.add(jobId);
        try {
          const claimed = await this.tryClaim(jobId, input, leaseTokenHash, context, beforeClaiming);
          if (claimed) return { jobId, leaseToken, leaseExpiresAt: claimed };
        } finally {
          this.claiming.delete(jobId);
        }
      }
    }
    return null;
  }

  /** One attempt on one candidate: the lease's expiry when won, undefined when lost. */
  private async tryClaim(
    jobId: string,
    input: ClaimJobInput,
    leaseTokenHash: string,
    context: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<string | undefined> {
    const { state, revision } = await this.deps.repository.load(jobId);
    // Read the clock per candidate: a lease must not start out already expired
    // because earlier candidates took a while.
    const now = this.clock();
    // The read model may lag: the stream has the last word.
    if (!state || !isClaimable(state, now)) return undefined;
    const events = decide(state, {
      type: 'ClaimJob',
      workerId: input.workerId,
      leaseTokenHash,
      leaseSeconds: input.leaseSeconds,
      now,
    });
    // The token is reserved before it is given a job (not before a job whose last lease ran out fails).
    if (events.some((e) => e.type === 'JobClaimed')) await beforeClaiming();
    let lastEventId: string;
    try {
      lastEventId = await this.appendAndWait(jobId, events, revision, context);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
    const claimed = events.find((e) => e.type === 'JobClaimed');
    if (claimed?.type === 'JobClaimed') return claimed.data.leaseExpiresAt;
    // Its last lease expired with no attempts left: the job failed instead.
    await this.experiments?.afterJobEnded(jobId, causedBy(context, lastEventId));
    return undefined;
  }

  async heartbeat(rawInput: unknown, context: CommandContext): Promise<LeaseInfo> {
    const input = parseInput(HeartbeatInput, rawInput);
    const now = this.clock();
    const { events } = await this.execute(
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
    const { jobId, leaseToken, sequence, ...point } = parseInput(ReportMetricInput, rawInput);
    return this.reportPoints(jobId, leaseToken, [point], sequence, context);
  }

  async reportMetrics(rawInput: unknown, context: CommandContext): Promise<{ jobId: string; shouldStop: boolean }> {
    const input = parseInput(ReportMetricsInput, rawInput);
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
    // The job's own events are all in the read model (each mutation waits), so its points there are those before the report.
    const earlyStopping = this.experiments?.earlyStopping(jobId) ?? null;
    const { events, state, lastEventId } = await this.execute(
      jobId,
      () => ({
        type: 'ReportMetrics',
        leaseTokenHash: hashLeaseToken(leaseToken),
        points,
        now,
        sequence,
        digest: sequence === null ? null : callDigest(points),
        earlyStopping,
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
    const input = parseInput(AppendLogInput, rawInput);
    const { events, state } = await this.execute(
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
    const input = parseInput(CompleteJobInput, rawInput);
    const { lastEventId } = await this.execute(
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
    const input = parseInput(FailJobInput, rawInput);
    const { events, lastEventId } = await this.execute(
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
    const input = parseInput(ReleaseJobInput, rawInput);
    await this.execute(
      input.jobId,
      () => ({ type: 'ReleaseJob', leaseTokenHash: hashLeaseToken(input.leaseToken), reason: input.reason }),
      context,
    );
    return input.jobId;
  }

  async cancelJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(CancelJobInput, rawInput);
    const { lastEventId } = await this.execute(
      input.jobId,
      () => ({ type: 'CancelJob', reason: input.reason }),
      context,
    );
    await this.experiments?.afterJobEnded(input.jobId, causedBy(context, lastEventId));
    return input.jobId;
  }

  async retryJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(RetryJobInput, rawInput);
    await this.execute(input.jobId, () => ({ type: 'RetryJob' }), context);
    return input.jobId;
  }

  /**
   * Load, decide, append at the loaded revision; on a lost race, again on
   * fresh state. Returns the events written and the state they were decided on.
   */
  private async execute(
    jobId: string,
    command: (state: JobState | undefined) => JobCommand,
    context: CommandContext,
    options: { retries?: number; contexts?: (events: readonly NewJobEvent[]) => readonly EventContext[] } = {},
  ): Promise<{ events: NewJobEvent[]; state: JobState | undefined; lastEventId?: string }> {
    const retries = options.retries ?? RACE_RETRIES;
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.deps.repository.load(jobId);
      const events = decide(state, command(state));
      if (events.length === 0) return { events, state };
      try {
        const lastEventId = await this.appendAndWait(jobId, events, revision, options.contexts?.(events) ?? context);
        return { events, state, lastEventId };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= retries) throw conflict('the job changed concurrently; try again');
      }
    }
  }

  /** Appends, waits for the read models, and answers with the last event's id. */
  private async appendAndWait(
    jobId: string,
    events: readonly NewJobEvent[],
    revision: bigint | undefined,
    context: CommandContext | readonly EventContext[],
  ): Promise<string> {
    const { position, eventIds } = await this.deps.repository.append(jobId, events, revision, context);
    await this.deps.waitForReadModels(position);
    return eventIds[eventIds.length - 1]!;
  }

  /** A job created by another request (same idempotency key) is answered once it is readable. */
  private async awaitJobInReadModel(jobId: string): Promise<string> {
    const { position } = await this.deps.repository.load(jobId);
    if (position === undefined) throw notFound(`job ${jobId} not found`);
    await this.deps.waitForReadModels(position);
    return jobId;
  }
}
