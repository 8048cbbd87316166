/**
 * Job decisions: a command and the job's state in, the events that record the
 * change out, or a `DomainError`. Pure: the caller supplies the clock, the ids
 * and the lease token's hash, so the same inputs always give the same events.
 *
 * Input shapes and sizes are checked before a command gets here (see
 * `src/app/job-inputs.ts`); this module guards the rules that depend on state.
 */
import { DomainError, badInput, conflict, leaseLost, notFound } from '../errors.js';
import type { Artifact, JobEventData, JobStatus, Json, LogStream, MetricPoint, NewJobEvent } from './events.js';
import { judgeReport, keptUntil, type EarlyStopping } from './early-stopping.js';
import type { JobState, MaybeJob, NumberedCall } from './state.js';

type JsonObject = Record<string, Json>;

export const METRIC_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;

/** The largest metric step: GraphQL's Int is a signed 32-bit number, so every stored step can be read back. */
export const MAX_METRIC_STEP = 2 ** 31 - 1;

export type JobCommand =
  /** A job's creation carries exactly what JobCreated records. */
  | ({ type: 'CreateJob' } & JobEventData<'JobCreated'>)
  | { type: 'ClaimJob'; workerId: string; leaseTokenHash: string; leaseSeconds: number; now: Date }
  | { type: 'Heartbeat'; leaseTokenHash: string; progress: number | null; leaseSeconds: number | null; now: Date }
  | {
      type: 'ReportMetrics';
      leaseTokenHash: string;
      points: { name: string; value: number; step: number | null; timestamp: string | null }[];
      now: Date;
      sequence?: number | null;
      /** A digest of the call as sent (the caller computes it), telling a retry from another call with the same number. */
      digest?: string | null;
      /** The experiment's early-stopping rule, when one applies: it judges the report as it is recorded. */
      earlyStopping?: EarlyStopping | null;
    }
  | {
      type: 'AppendLog';
      leaseTokenHash: string;
      lines: string[];
      stream: LogStream;
      sequence?: number | null;
      digest?: string | null;
    }
  | { type: 'CompleteJob'; leaseTokenHash: string; result: JsonObject | null; artifacts: Artifact[] }
  | { type: 'FailJob'; leaseTokenHash: string; error: string; retry: boolean }
  | { type: 'ReleaseJob'; leaseTokenHash: string; reason: string | null }
  | { type: 'CancelJob'; reason: string | null }
  /** Its algorithm was upgraded: train again with the new version. */
  | { type: 'RetrainJob'; algorithmVersion: number }
  | { type: 'RetryJob' };

export function decideJob(state: MaybeJob, command: JobCommand): NewJobEvent[] {
  if (command.type === 'CreateJob') {
    if (state) throw conflict(`job ${command.jobId} already exists`, { status: state.status });
    const { type: _type, ...data } = command;
    return [{ type: 'JobCreated', data }];
  }
  if (!state) throw notFound('job not found');
  switch (command.type) {
    case 'ClaimJob':
      return decideClaim(state, command);
    case 'Heartbeat':
      return decideHeartbeat(state, command);
    case 'ReportMetrics': {
      // A retry of a call already recorded (even one that ended the lease by pruning): nothing to write.
      if (isRetry(state.metricSequence, command)) return [];
      requireLease(state, command.leaseTokenHash);
      requireNextNumber(state.metricSequence, command);
      const points = withSteps(state, command.points, command.now);
      if (!command.earlyStopping) return [{ type: 'JobMetricsReported', data: { points, ...numbered(command) } }];
      // Judged before recording: a report that prunes keeps nothing past the pruning step.
      const { reached, prune } = judgeReport(command.earlyStopping, points, state.rungValues.length);
      const events: NewJobEvent[] = [
        { type: 'JobMetricsReported', data: { points: keptUntil(points, prune), ...numbered(command) } },
      ];
      if (reached.length > 0) events.push({ type: 'JobRungsReached', data: { rungs: reached } });
      if (prune) events.push({ type: 'JobPruned', data: prune });
      return events;
    }
    case 'AppendLog':
      if (isRetry(state.logSequence, command)) return [];
      requireLease(state, command.leaseTokenHash);
      requireNextNumber(state.logSequence, command);
      if (command.lines.length === 0) return [];
      return [
        {
          type: 'JobLogAppended',
          data: {
            stream: command.stream,
            firstOffset: state.nextLogOffset,
            lines: command.lines,
            ...numbered(command),
          },
        },
      ];
    case 'CompleteJob':
      requireLease(state, command.leaseTokenHash);
      return [{ type: 'JobCompleted', data: { result: command.result, artifacts: command.artifacts } }];
    case 'FailJob': {
      requireLease(state, command.leaseTokenHash);
      const requeued = command.retry && state.attempts < state.maxAttempts;
      return [{ type: 'JobFailed', data: { error: command.error, requeued } }];
    }
    case 'ReleaseJob':
      requireLease(state, command.leaseTokenHash);
      return [{ type: 'JobReleased', data: { reason: command.reason } }];
    case 'CancelJob':
      if (state.status !== 'QUEUED' && state.status !== 'RUNNING') {
        throw illegalTransition(state.status, 'cancel');
      }
      return [{ type: 'JobCancelled', data: { reason: command.reason, from: state.status } }];
    case 'RetrainJob':
      // Already at (or past) that version: a repeated migration changes nothing.
      if (state.algorithmVersion !== null && state.algorithmVersion >= command.algorithmVersion) return [];
      return [
        {
          type: 'JobRetrained',
          data: { from: state.status, fromVersion: state.algorithmVersion, algorithmVersion: command.algorithmVersion },
        },
      ];
    case 'RetryJob':
      if (state.status !== 'FAILED' && state.status !== 'CANCELLED' && state.status !== 'PRUNED') {
        throw illegalTransition(state.status, 'retry');
      }
      return [
        {
          type: 'JobRetried',
          data: { from: state.status, maxAttempts: Math.max(state.maxAttempts, state.attempts + 1) },
        },
      ];
  }
}

type NumberedCommand = { leaseTokenHash: string; sequence?: number | null; digest?: string | null };

/**
 * The last numbered call again, under the same lease: its number, and its
 * digest when both sides have one (calls recorded before digests existed are
 * recognised by their number alone).
 */
function isRetry(last: NumberedCall | null, command: NumberedCommand): boolean {
  const { sequence, digest, leaseTokenHash } = command;
  if (sequence == null || last === null || last.leaseTokenHash !== leaseTokenHash || sequence !== last.sequence)
    return false;
  return last.digest === undefined || digest == null || last.digest === digest;
}

/**
 * A numbered call that is not the retry of the last one must number past it:
 * an older number cannot be told from a retry of an older call (only the last
 * call's digest is kept), and taking it as one would drop its content silently.
 */
function requireNextNumber(last: NumberedCall | null, command: NumberedCommand): void {
  const { sequence, leaseTokenHash } = command;
  if (sequence == null || last === null || last.leaseTokenHash !== leaseTokenHash) return;
  if (sequence === last.sequence) {
    throw conflict(
      `sequence ${sequence} was used by another call under this lease (different content); number a new call past it`,
      {
        lastSequence: last.sequence,
      },
    );
  }
  if (sequence < last.sequence) {
    throw conflict(
      `the sequence went backwards: ${sequence} after ${last.sequence} under this lease; number a new call past ${last.sequence}`,
      {
        lastSequence: last.sequence,
      },
    );
  }
}

function numbered(command: NumberedCommand): { sequence?: number; digest?: string } {
  if (command.sequence == null) return {};
  return { sequence: command.sequence, ...(command.digest != null && { digest: command.digest }) };
}

/** A job is claimable when queued, or running under a lease that has expired. */
export function isClaimable(state: JobState, now: Date): boolean {
  return state.status === 'QUEUED' || (state.status === 'RUNNING' && leaseExpired(state, now));
}

function leaseExpired(state: JobState, now: Date): boolean {
  return state.leaseExpiresAt !== null && Date.parse(state.leaseExpiresAt) <= now.getTime();
}

const LEASE_EXPIRED_PREFIX = 'lease of worker ';

/** A `JobFailed` a claim decided because the last lease had expired with no attempts left (counted in metrics). */
export function isLeaseExpiryFailure(data: { error: string; requeued: boolean }): boolean {
  return !data.requeued && data.error.startsWith(LEASE_EXPIRED_PREFIX);
}

function decideClaim(state: JobState, command: Extract<JobCommand, { type: 'ClaimJob' }>): NewJobEvent[] {
  if (!isClaimable(state, command.now)) {
    throw conflict(`job is ${state.status}${state.status === 'RUNNING' ? ' under a live lease' : ''}`, {
      status: state.status,
    });
  }
  const takenOverFrom = state.status === 'RUNNING' ? state.workerId : null;
  // A worker that vanished used up an attempt; with none left the job fails instead.
  if (takenOverFrom !== null && state.attempts >= state.maxAttempts) {
    return [
      {
        type: 'JobFailed',
        data: {
          error: `${LEASE_EXPIRED_PREFIX}${takenOverFrom} expired on attempt ${state.attempts} of ${state.maxAttempts}`,
          requeued: false,
        },
      },
    ];
  }
  return [
    {
      type: 'JobClaimed',
      data: {
        workerId: command.workerId,
        leaseTokenHash: command.leaseTokenHash,
        leaseExpiresAt: addSeconds(command.now, command.leaseSeconds),
        leaseSeconds: command.leaseSeconds,
        attempt: state.attempts + 1,
        takenOverFrom,
      },
    },
  ];
}

function decideHeartbeat(state: JobState, command: Extract<JobCommand, { type: 'Heartbeat' }>): NewJobEvent[] {
  if (state.leaseTokenHash !== command.leaseTokenHash) throw lostLease(state);
  // A cancelled job's worker still learns, through its heartbeat, that it must stop.
  if (state.status === 'CANCELLED') return [];
  if (state.status !== 'RUNNING') throw lostLease(state);
  const seconds = command.leaseSeconds ?? state.leaseSeconds ?? 300;
  return [
    {
      type: 'JobHeartbeat',
      data: { leaseExpiresAt: addSeconds(command.now, seconds), progress: command.progress },
    },
  ];
}

/**
 * The lease is the token of the job's latest claim. An expired lease stays
 * usable until another worker claims the job: only then is the token stale.
 */
function requireLease(state: JobState, leaseTokenHash: string): void {
  if (state.status !== 'RUNNING' || state.leaseTokenHash !== leaseTokenHash) throw lostLease(state);
}

function lostLease(state: JobState): DomainError {
  const why = state.status === 'RUNNING' ? 'another lease holds the job' : `the job is ${state.status}`;
  return leaseLost(`stale or unknown lease token: ${why}`);
}

function withSteps(
  state: JobState,
  points: Extract<JobCommand, { type: 'ReportMetrics' }>['points'],
  now: Date,
): MetricPoint[] {
  const lastStep = { ...state.lastStepByMetric };
  return points.map((point) => {
    if (!METRIC_NAME.test(point.name)) {
      throw badInput(`metric name must match ${METRIC_NAME.source}: ${JSON.stringify(point.name)}`);
    }
    if (!Number.isFinite(point.value)) throw badInput(`metric ${point.name}: value must be finite`);
    const step = point.step ?? (lastStep[point.name] ?? -1) + 1;
    if (point.step === null && step > MAX_METRIC_STEP) {
      throw badInput(
        `metric ${point.name}: its last step is ${MAX_METRIC_STEP}, the largest step; give a step explicitly`,
      );
    }
    if (!Number.isSafeInteger(step) || step < 0 || step > MAX_METRIC_STEP) {
      throw badInput(`metric ${point.name}: step must be from 0 to ${MAX_METRIC_STEP}`);
    }
    lastStep[point.name] = Math.max(lastStep[point.name] ?? -1, step);
    return { name: point.name, step, value: point.value, timestamp: point.timestamp ?? now.toISOString() };
  });
}

function illegalTransition(status: JobStatus, action: string): DomainError {
  return conflict(`cannot ${action} a job that is ${status}`, { status });
}

function addSeconds(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}
