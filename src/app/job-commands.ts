/**
 * The job mutations: validate the input, load the job's stream, decide,
 * append with the revision it was loaded at, and answer only once the read
 * models include the new events. A lost optimistic race is retried on fresh
 * state; the domain re-checks every rule each time.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DomainError, conflict, notFound } from '../domain/errors.js';
import { decide, isClaimable, type JobCommand } from '../domain/job/decide.js';
import type { NewJobEvent } from '../domain/job/events.js';
import type { JobState } from '../domain/job/state.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import { WrongExpectedRevisionError } from '../store/port.js';
import type { CommandContext } from './command-context.js';
import {
  AppendLogInput,
  CancelJobInput,
  ClaimJobInput,
  CompleteJobInput,
  CreateJobInput,
  FailJobInput,
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

export interface JobCommandDeps {
  repository: JobRepository;
  queries: JobQueries;
  /** Resolves once the read models include the event at this position. */
  waitForReadModels: (position: string) => Promise<void>;
  clock?: () => Date;
  /** Whether an experiment exists; experiments arrive with their own module. */
  experimentExists?: (experimentId: string) => boolean;
}

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

/** Job ids: random, or derived from an idempotency key so a retried create finds the first job. */
export function newJobId(idempotencyKey: string | null): string {
  if (idempotencyKey === null) return `job_${randomUUID().replaceAll('-', '')}`;
  return `job_k${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

export class JobCommands {
  private readonly clock: () => Date;
  /** Jobs this process is claiming right now: other claimers here skip them. */
  private readonly claiming = new Set<string>();

  constructor(private readonly deps: JobCommandDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async createJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(CreateJobInput, rawInput);
    if (input.experimentId !== null && !(this.deps.experimentExists?.(input.experimentId) ?? false)) {
      throw notFound(`experiment ${input.experimentId} not found`);
    }
    const jobId = newJobId(input.idempotencyKey);
    const { idempotencyKey, ...fields } = input;
    const command: JobCommand = {
      type: 'CreateJob',
      jobId,
      ...fields,
      idempotencyKey,
      generation: 0,
      parentId: null,
    };
    try {
      await this.execute(jobId, () => command, context, { retries: 0 });
    } catch (error) {
      // The key was used before: answer with the job it created.
      const repeated =
        idempotencyKey !== null &&
        (error instanceof WrongExpectedRevisionError || (error instanceof DomainError && error.code === 'CONFLICT'));
      if (!repeated) throw error;
      await this.awaitJobInReadModel(jobId);
    }
    return jobId;
  }

  async claimJob(rawInput: unknown, context: CommandContext): Promise<Claim | null> {
    const input = parseInput(ClaimJobInput, rawInput);
    const leaseToken = randomBytes(32).toString('base64url');
    const leaseTokenHash = hashLeaseToken(leaseToken);
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
          const claimed = await this.tryClaim(jobId, input, leaseTokenHash, context);
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
    try {
      await this.appendAndWait(jobId, events, revision, context);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
    const claimed = events.find((e) => e.type === 'JobClaimed');
    return claimed?.type === 'JobClaimed' ? claimed.data.leaseExpiresAt : undefined;
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
    const { jobId, leaseToken, ...point } = parseInput(ReportMetricInput, rawInput);
    return this.reportPoints(jobId, leaseToken, [point], context);
  }

  async reportMetrics(rawInput: unknown, context: CommandContext): Promise<{ jobId: string; shouldStop: boolean }> {
    const input = parseInput(ReportMetricsInput, rawInput);
    return this.reportPoints(input.jobId, input.leaseToken, input.points, context);
  }

  private async reportPoints(
    jobId: string,
    leaseToken: string,
    points: Extract<JobCommand, { type: 'ReportMetrics' }>['points'],
    context: CommandContext,
  ): Promise<{ jobId: string; shouldStop: boolean }> {
    const now = this.clock();
    await this.execute(
      jobId,
      () => ({ type: 'ReportMetrics', leaseTokenHash: hashLeaseToken(leaseToken), points, now }),
      context,
    );
    // Early stopping arrives with experiments; until then no rule can prune.
    return { jobId, shouldStop: false };
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
      }),
      context,
    );
    const appended = events.find((e) => e.type === 'JobLogAppended');
    if (appended?.type !== 'JobLogAppended') {
      // Nothing to append: the job's log stands where it was.
      const offset = state?.nextLogOffset ?? 0;
      return { firstOffset: offset, nextOffset: offset };
    }
    const { firstOffset, lines } = appended.data;
    return { firstOffset, nextOffset: firstOffset + lines.length };
  }

  async completeJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(CompleteJobInput, rawInput);
    await this.execute(
      input.jobId,
      () => ({
        type: 'CompleteJob',
        leaseTokenHash: hashLeaseToken(input.leaseToken),
        result: input.result,
        artifacts: input.artifacts,
      }),
      context,
    );
    return input.jobId;
  }

  async failJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(FailJobInput, rawInput);
    await this.execute(
      input.jobId,
      () => ({ type: 'FailJob', leaseTokenHash: hashLeaseToken(input.leaseToken), error: input.error, retry: input.retry }),
      context,
    );
    return input.jobId;
  }

  async cancelJob(rawInput: unknown, context: CommandContext): Promise<string> {
    const input = parseInput(CancelJobInput, rawInput);
    await this.execute(input.jobId, () => ({ type: 'CancelJob', reason: input.reason }), context);
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
    options: { retries?: number } = {},
  ): Promise<{ events: NewJobEvent[]; state: JobState | undefined }> {
    const retries = options.retries ?? RACE_RETRIES;
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.deps.repository.load(jobId);
      const events = decide(state, command(state));
      if (events.length === 0) return { events, state };
      try {
        await this.appendAndWait(jobId, events, revision, context);
        return { events, state };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= retries) throw conflict('the job changed concurrently; try again');
      }
    }
  }

  private async appendAndWait(
    jobId: string,
    events: readonly NewJobEvent[],
    revision: bigint | undefined,
    context: CommandContext,
  ): Promise<void> {
    const { position } = await this.deps.repository.append(jobId, events, revision, context);
    await this.deps.waitForReadModels(position);
  }

  /** A job created by another request (same idempotency key) is answered once it is readable. */
  private async awaitJobInReadModel(jobId: string): Promise<void> {
    const { position } = await this.deps.repository.load(jobId);
    if (position === undefined) throw notFound(`job ${jobId} not found`);
    await this.deps.waitForReadModels(position);
  }
}
