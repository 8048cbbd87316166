/**
 * The claim algorithm: which job a worker gets. A queued (or lease-expired)
 * candidate from the read model, checked against its stream and claimed at the
 * revision it was loaded at; for an experiment, a new trial from its scheduler,
 * created and claimed in one append. A worker that chose its own lease token
 * may send the same claim again: the token's stream makes it one claim.
 */
import { randomBytes } from 'node:crypto';
import { notFound } from '../domain/errors.js';
import { decideJob, isClaimable, type JobCommand } from '../domain/job/decide.js';
import type { NewJobEvent } from '../domain/job/events.js';
import { jobKind } from '../domain/job/kind.js';
import type { JobState } from '../domain/job/state.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import {
  leaseTokenKey,
  leaseTokenKind,
  type LeaseTokenEvent,
  type LeaseTokenState,
  type NewLeaseTokenEvent,
} from '../domain/job/lease-token.js';
import { WrongExpectedRevisionError, type EventStore } from '../store/port.js';
import { Repository } from './repository.js';
import { causedBy, type CommandContext } from './command-context.js';
import type { Claim, ExperimentHooks } from './experiment-hooks.js';
import type { ClaimJobInput, JobInputs } from './job-inputs.js';
import { hashLeaseToken, jobData, trialJobId, type NewJobData } from './job-ids.js';
import type { JobRepository } from './job-repository.js';
import { parseInput } from './validation.js';

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

/** Another claimer appended to the candidate first: try the next one. */
class LostClaimRace extends Error {}

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

export interface JobClaimDeps {
  /** The input schemas, built with the configured limits. */
  inputs: JobInputs;
  repository: JobRepository;
  /** Where worker-chosen lease tokens record their claims (see domain/job/lease-token.ts). */
  store: EventStore;
  queries: JobQueries;
  /** Resolves once the read models include the event at this position. */
  waitForReadModels: (position: string) => Promise<void>;
  clock: () => Date;
  /** The experiments' hooks, once the composition root has tied them (undefined before). */
  experiments: () => ExperimentHooks | undefined;
}

export class JobClaims {
  /** Jobs this process is claiming right now: other claimers here skip them. */
  private readonly claiming = new Set<string>();
  /** Claims in progress by the hash of a worker-chosen lease token: a repeat waits for the first. */
  private readonly claimsByToken = new Map<string, Promise<Claim | null>>();
  private readonly tokens: Repository<LeaseTokenState, LeaseTokenEvent, NewLeaseTokenEvent>;

  constructor(private readonly deps: JobClaimDeps) {
    this.tokens = new Repository(deps.store, leaseTokenKind);
  }

  async claimJob(rawInput: unknown, context: CommandContext): Promise<Claim | null> {
    const input = parseInput(this.deps.inputs.claimJob, rawInput);
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
        if (this.deps.clock().getTime() - Date.parse(state.at) < ABANDONED_TOKEN_MS) {
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
    if (input.anyExperiment) return this.claimFromPool(input, leaseToken, context, beforeClaiming);
    if (input.experimentId === null) return claimQueued();
    const experimentId = input.experimentId;
    const experiments = this.deps.experiments();
    if (!experiments) throw notFound(`experiment ${experimentId} not found`);
    return experiments.claim(experimentId, context, claimQueued, async (trial) => {
      const jobId = trialJobId(experimentId, trial.index);
      const data = jobData(jobId, {
        experimentId,
        hyperparameters: trial.hyperparameters,
        params: trial.params ?? {},
        generation: trial.generation ?? 0,
        parentId: trial.parentId ?? null,
        trialIndex: trial.index,
        decision: trial.decision ?? null,
        ...(trial.labels ? { labels: trial.labels } : {}),
      });
      const leaseExpiresAt = await this.createClaimed(
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
   * A worker pool's claim: a trial of the first running experiment, in fair
   * order (fewest running trials for its priority first), that takes one; each
   * through the experiment's own claim, so pause, finish and maxConcurrent hold.
   */
  private async claimFromPool(
    input: ClaimJobInput,
    leaseToken: string,
    context: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<Claim | null> {
    const experiments = this.deps.experiments();
    if (!experiments) return null;
    for (const experimentId of experiments.poolOrder(input.labels, input.withCommand)) {
      const single = { ...input, experimentId, anyExperiment: false };
      const claim = await this.claimWithToken(single, leaseToken, context, beforeClaiming);
      if (claim) return claim;
    }
    return null;
  }

  /**
   * A new trial, created and claimed in one append (its creation and its
   * claim keep their own causes). Undefined when another claimer created that
   * trial first.
   */
  private async createClaimed(
    data: NewJobData,
    createdContext: CommandContext,
    input: ClaimJobInput,
    leaseTokenHash: string,
    claimContext: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<string | undefined> {
    await beforeClaiming();
    const now = this.deps.clock();
    const claimCommand = this.claimCommand(input, leaseTokenHash, now);
    try {
      const { events } = await this.deps.repository.change(
        data.jobId,
        (state) => {
          const created = decideJob(state, { type: 'CreateJob', ...data });
          const queued = jobKind.fold(created.map((e) => ({ ...e, timestamp: now.toISOString() })));
          const claimed = decideJob(queued, claimCommand);
          if (claimed.length !== 1 || claimed[0]?.type !== 'JobClaimed')
            throw new Error(`a new job's claim decided ${claimed.map((e) => e.type).join(', ')}`);
          return [...created, ...claimed];
        },
        claimContext,
        {
          // A trial's stream is new: nothing to read before deciding, and a rival creator wins the race.
          loaded: { state: undefined, revision: undefined, position: undefined },
          retries: 0,
          onLostRace: () => new LostClaimRace(),
          contexts: () => [createdContext, claimContext],
          readModels: this.deps.waitForReadModels,
        },
      );
      return leaseExpiresOf(events);
    } catch (error) {
      if (error instanceof LostClaimRace) return undefined;
      throw error;
    }
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
          now: this.deps.clock().toISOString(),
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

  /**
   * One attempt on one candidate: the lease's expiry when won, undefined when
   * lost. The job is looked at first, and the token reserved only if the
   * decision gives it the job; the change then decides on what was looked at,
   * once: a lost race moves on to the next candidate.
   */
  private async tryClaim(
    jobId: string,
    input: ClaimJobInput,
    leaseTokenHash: string,
    context: CommandContext,
    beforeClaiming: () => Promise<void>,
  ): Promise<string | undefined> {
    const loaded = await this.deps.repository.load(jobId);
    // Read the clock per candidate: a lease must not start out already expired
    // because earlier candidates took a while.
    const now = this.deps.clock();
    const claimable = (state: JobState | undefined): state is JobState => !!state && isClaimable(state, now);
    // The read model may lag: the stream has the last word.
    if (!claimable(loaded.state)) return undefined;
    const command = this.claimCommand(input, leaseTokenHash, now);
    // The token is reserved before it is given a job (not before a job whose last lease ran out fails).
    if (decideJob(loaded.state, command).some((e) => e.type === 'JobClaimed')) await beforeClaiming();
    let changed;
    try {
      changed = await this.deps.repository.change(
        jobId,
        (state) => (claimable(state) ? decideJob(state, command) : []),
        context,
        { loaded, retries: 0, onLostRace: () => new LostClaimRace(), readModels: this.deps.waitForReadModels },
      );
    } catch (error) {
      if (error instanceof LostClaimRace) return undefined;
      throw error;
    }
    const leaseExpiresAt = leaseExpiresOf(changed.events);
    if (leaseExpiresAt) return leaseExpiresAt;
    // Its last lease expired with no attempts left: the job failed instead.
    if (changed.events.length > 0) {
      await this.deps.experiments()?.afterJobEnded(jobId, causedBy(context, changed.lastEventId));
    }
    return undefined;
  }

  private claimCommand(input: ClaimJobInput, leaseTokenHash: string, now: Date): JobCommand {
    return { type: 'ClaimJob', workerId: input.workerId, leaseTokenHash, leaseSeconds: input.leaseSeconds, now };
  }
}

/** The lease a claim's events gave, if they gave one. */
function leaseExpiresOf(events: readonly NewJobEvent[]): string | undefined {
  const claimed = events.find((e) => e.type === 'JobClaimed');
  return claimed?.type === 'JobClaimed' ? claimed.data.leaseExpiresAt : undefined;
}
