/**
 * A job's state, folded from its events. It holds everything a command needs
 * to decide and everything `jobAt` shows, but not the metric points or log
 * lines themselves (only where their series and offsets stand), so folding a
 * long-running job stays cheap.
 */
import type { Artifact, JobEvent, JobStatus, Json, PruningDecision } from './events.js';

type JsonObject = Record<string, Json>;

export interface JobState {
  id: string;
  status: JobStatus;
  experimentId: string | null;
  hyperparameters: JsonObject;
  params: JsonObject;
  algorithmId: string | null;
  algorithmVersion: number | null;
  /**
   * The large fields (training data, result, artifacts) are set by the events
   * that carry them. A state loaded for a decision from a snapshot leaves them
   * out: no decision reads them, and a claim or heartbeat then never parses a
   * megabyte of training data. Reads that show them use the read model.
   */
  trainingData?: Json | null;
  priority: number;
  labels: string[];
  maxAttempts: number;
  attempts: number;
  idempotencyKey: string | null;
  generation: number;
  parentId: string | null;
  workerId: string | null;
  leaseTokenHash: string | null;
  leaseExpiresAt: string | null;
  leaseSeconds: number | null;
  cancelRequested: boolean;
  progress: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  result?: JsonObject | null;
  artifacts?: Artifact[];
  /** The last step of each metric series, for the "one past the last" default. */
  lastStepByMetric: Record<string, number>;
  nextLogOffset: number;
  trialIndex: number | null;
  /** Successive halving: the objective's value at each rung reached, in rung order. */
  rungValues: number[];
  /** Why the job is PRUNED, as its early-stopping rule decided it; null in any other status. */
  pruning: PruningDecision | null;
  /** The last numbered metrics report of the current lease (retries are recognised by it). */
  metricSequence: NumberedCall | null;
  /** The last numbered log append of the current lease, with what it answered. */
  logSequence: (NumberedCall & { firstOffset: number; nextOffset: number }) | null;
}

/** A numbered worker call: its number, its lease, and the digest of what it sent (absent in older logs). */
export interface NumberedCall {
  sequence: number;
  leaseTokenHash: string;
  digest?: string;
}

/**
 * The jobs read model stores this state, and commands start from it (it is
 * their snapshot): a change to its shape or to what `evolveJob` makes of an
 * event must raise READ_MODEL_VERSION (projections/read-model-version.ts), so
 * the stored states are rebuilt rather than decided on.
 */

/** Before the first event there is no job: `undefined` is the initial state. */
export type MaybeJob = JobState | undefined;

export function evolveJob(state: MaybeJob, event: JobEvent): MaybeJob {
  if (event.type === 'JobCreated') {
    const d = event.data;
    return {
      id: d.jobId,
      status: 'QUEUED',
      experimentId: d.experimentId,
      hyperparameters: d.hyperparameters,
      params: d.params,
      algorithmId: d.algorithmId,
      algorithmVersion: d.algorithmVersion,
      trainingData: d.trainingData,
      priority: d.priority,
      labels: d.labels,
      maxAttempts: d.maxAttempts,
      attempts: 0,
      idempotencyKey: d.idempotencyKey,
      generation: d.generation,
      parentId: d.parentId,
      workerId: null,
      leaseTokenHash: null,
      leaseExpiresAt: null,
      leaseSeconds: null,
      cancelRequested: false,
      progress: null,
      createdAt: event.timestamp,
      startedAt: null,
      finishedAt: null,
      error: null,
      result: null,
      artifacts: [],
      lastStepByMetric: {},
      nextLogOffset: 0,
      trialIndex: d.trialIndex,
      rungValues: [],
      pruning: null,
      metricSequence: null,
      logSequence: null,
    };
  }
  if (!state) throw new TypeError(`${event.type} before JobCreated`);
  switch (event.type) {
    case 'JobClaimed':
      return {
        ...state,
        status: 'RUNNING',
        workerId: event.data.workerId,
        leaseTokenHash: event.data.leaseTokenHash,
        leaseExpiresAt: event.data.leaseExpiresAt,
        leaseSeconds: event.data.leaseSeconds,
        attempts: event.data.attempt,
        startedAt: event.timestamp,
        progress: null,
        cancelRequested: false,
        metricSequence: null,
        logSequence: null,
      };
    case 'JobHeartbeat':
      return {
        ...state,
        leaseExpiresAt: event.data.leaseExpiresAt,
        progress: event.data.progress ?? state.progress,
      };
    case 'JobMetricsReported': {
      const lastStepByMetric = { ...state.lastStepByMetric };
      for (const point of event.data.points) {
        lastStepByMetric[point.name] = Math.max(lastStepByMetric[point.name] ?? -Infinity, point.step);
      }
      const sequence = event.data.sequence;
      return {
        ...state,
        lastStepByMetric,
        metricSequence:
          sequence == null || state.leaseTokenHash === null
            ? state.metricSequence
            : {
                sequence,
                leaseTokenHash: state.leaseTokenHash,
                ...(event.data.digest != null && { digest: event.data.digest }),
              },
      };
    }
    case 'JobLogAppended': {
      const nextLogOffset = event.data.firstOffset + event.data.lines.length;
      const sequence = event.data.sequence;
      return {
        ...state,
        nextLogOffset,
        logSequence:
          sequence == null || state.leaseTokenHash === null
            ? state.logSequence
            : {
                sequence,
                leaseTokenHash: state.leaseTokenHash,
                ...(event.data.digest != null && { digest: event.data.digest }),
                firstOffset: event.data.firstOffset,
                nextOffset: nextLogOffset,
              },
      };
    }
    case 'JobCompleted':
      return {
        ...endLease(state),
        status: 'SUCCEEDED',
        finishedAt: event.timestamp,
        progress: 1,
        result: event.data.result,
        artifacts: event.data.artifacts,
      };
    case 'JobFailed':
      return event.data.requeued
        ? { ...endLease(state), status: 'QUEUED', error: event.data.error }
        : { ...endLease(state), status: 'FAILED', error: event.data.error, finishedAt: event.timestamp };
    case 'JobReleased':
      // Handed back unfinished: the claim is undone, so the attempt is not counted.
      return { ...endLease(state), status: 'QUEUED', attempts: Math.max(0, state.attempts - 1) };
    case 'JobCancelled':
      // The worker keeps its token for one purpose: heartbeat tells it to stop.
      return {
        ...state,
        status: 'CANCELLED',
        cancelRequested: true,
        leaseExpiresAt: null,
        finishedAt: event.timestamp,
        error: event.data.reason ?? state.error,
      };
    case 'JobRungsReached':
      return { ...state, rungValues: [...state.rungValues, ...event.data.rungs.map((r) => r.value)] };
    case 'JobPruned':
      return { ...endLease(state), status: 'PRUNED', finishedAt: event.timestamp, pruning: event.data };
    case 'JobRetrained':
      // A fresh start at the new version; the earlier result stays in the job's history.
      return {
        ...endLease(state),
        status: 'QUEUED',
        algorithmVersion: event.data.algorithmVersion,
        attempts: 0,
        workerId: null,
        progress: null,
        startedAt: null,
        finishedAt: null,
        error: null,
        result: null,
        artifacts: [],
        rungValues: [],
        pruning: null,
      };
    case 'JobRetried':
      return {
        ...endLease(state),
        status: 'QUEUED',
        maxAttempts: event.data.maxAttempts,
        finishedAt: null,
        cancelRequested: false,
        pruning: null,
      };
  }
}

function endLease(state: JobState): JobState {
  return { ...state, leaseTokenHash: null, leaseExpiresAt: null, cancelRequested: false };
}
