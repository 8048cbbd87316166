/**
 * The job's events: one zod schema per type. Every event read from the store
 * is parsed with its schema before the domain or a projection sees it, so a
 * malformed event is caught at the boundary, not deep inside a fold.
 */
import { z } from 'zod';
import type { EventsOf, NewEventsOf } from '../event-schemas.js';

export const JobStatus = z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED']);
export type JobStatus = z.infer<typeof JobStatus>;

export const LogStream = z.enum(['STDOUT', 'STDERR']);
export type LogStream = z.infer<typeof LogStream>;

const JsonObject = z.record(z.string(), z.json());
export type Json = z.infer<ReturnType<typeof z.json>>;
const IsoTime = z.iso.datetime({ offset: true });

export const Artifact = z.object({
  name: z.string(),
  uri: z.string(),
  sha256: z.string().nullable(),
  metadata: JsonObject.nullable(),
});
export type Artifact = z.infer<typeof Artifact>;

export const MetricPoint = z.object({
  name: z.string(),
  step: z.number().int(),
  value: z.number(),
  timestamp: IsoTime,
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/**
 * Why a job was pruned, as the rule saw it when it decided (never recomputed
 * later, when more trials have completed): the trial's value at the step, and
 * the threshold it was held to with the number of trials that threshold came from.
 */
export const PruningDecision = z.object({
  rule: z.enum(['median', 'successiveHalving', 'hyperband']),
  /** The step of the objective's point that was judged. */
  step: z.number().int(),
  /** The trial's value at that step. */
  value: z.number(),
  /** Median: the median of completed trials at the step. Successive halving: the rung's cutoff. */
  threshold: z.number().nullable(),
  /** How many trials' values the threshold came from (successive halving: this trial's included). */
  comparedTrials: z.number().int().nullable(),
  /** Successive halving: the rung the trial was stopped at. */
  rung: z.number().int().nullable(),
  /** Hyperband: the trial's bracket (whose rungs `rung` counts). */
  bracket: z.number().int().nullish(),
});
export type PruningDecision = z.infer<typeof PruningDecision>;

export const jobEventSchemas = {
  JobCreated: z.object({
    jobId: z.string(),
    experimentId: z.string().nullable(),
    hyperparameters: JsonObject,
    params: JsonObject,
    algorithmId: z.string().nullable(),
    algorithmVersion: z.number().int().nullable(),
    trainingData: z.json().nullable(),
    priority: z.number().int(),
    labels: z.array(z.string()),
    maxAttempts: z.number().int(),
    idempotencyKey: z.string().nullable(),
    generation: z.number().int(),
    parentId: z.string().nullable(),
    /** The job's slot in its experiment's sequence of trials (null outside experiments). */
    trialIndex: z.number().int().nullable(),
    /** What the experiment's scheduler decided in making this job (PBT: whom it copied, how it explored). */
    decision: z.json().nullable(),
  }),
  JobClaimed: z.object({
    workerId: z.string(),
    /** sha256 of the lease token: the log is readable, the token must not be. */
    leaseTokenHash: z.string(),
    leaseExpiresAt: IsoTime,
    /** How long each heartbeat extends the lease when it names no duration. */
    leaseSeconds: z.number().int(),
    attempt: z.number().int(),
    /** The worker whose lease had expired when this claim took the job over. */
    takenOverFrom: z.string().nullable(),
  }),
  JobHeartbeat: z.object({
    leaseExpiresAt: IsoTime,
    progress: z.number().nullable(),
  }),
  JobMetricsReported: z.object({
    points: z.array(MetricPoint),
    /** The worker's number for this call: a retry with it under the same lease writes nothing; a lower one is refused. */
    sequence: z.number().int().nullish(),
    /** A digest of the call as the worker sent it, so that a retry is told from another call reusing the number. */
    digest: z.string().nullish(),
  }),
  JobLogAppended: z.object({
    stream: LogStream,
    firstOffset: z.number().int(),
    lines: z.array(z.string()),
    sequence: z.number().int().nullish(),
    digest: z.string().nullish(),
  }),
  JobCompleted: z.object({
    result: JsonObject.nullable(),
    artifacts: z.array(Artifact),
  }),
  JobFailed: z.object({
    error: z.string(),
    /** True when attempts remained and the job went back to the queue. */
    requeued: z.boolean(),
  }),
  /**
   * The worker handed the job back unfinished (it is shutting down): the job
   * is queued again and the attempt does not count against maxAttempts.
   */
  JobReleased: z.object({
    reason: z.string().nullable(),
  }),
  JobCancelled: z.object({
    reason: z.string().nullable(),
    from: z.enum(['QUEUED', 'RUNNING']),
  }),
  /** Successive halving: the objective's value at each rung this job's report reached. */
  JobRungsReached: z.object({
    rungs: z.array(z.object({ rung: z.number().int(), value: z.number() })),
  }),
  /** The experiment's early-stopping rule stopped the job: what it decided, with the numbers it decided on. */
  JobPruned: PruningDecision,
  /** The job's algorithm was upgraded: it trains again from the queue with the new version. */
  JobRetrained: z.object({
    from: JobStatus,
    fromVersion: z.number().int().nullable(),
    algorithmVersion: z.number().int(),
  }),
  JobRetried: z.object({
    from: z.enum(['FAILED', 'CANCELLED', 'PRUNED']),
    /** Raised when the job had used all its attempts, so the retry gets one. */
    maxAttempts: z.number().int(),
  }),
} as const;

export type JobEventType = keyof typeof jobEventSchemas;
export type JobEventData<T extends JobEventType> = z.infer<(typeof jobEventSchemas)[T]>;
export type JobEvent = EventsOf<typeof jobEventSchemas>;
export type NewJobEvent = NewEventsOf<typeof jobEventSchemas>;

/** The event types that may change a job's status: the only ones `statusChangeOf` answers for. */
export const STATUS_CHANGING_EVENT_TYPES: ReadonlySet<string> = new Set<JobEventType>([
  'JobCreated',
  'JobClaimed',
  'JobCompleted',
  'JobFailed',
  'JobReleased',
  'JobCancelled',
  'JobPruned',
  'JobRetried',
  'JobRetrained',
]);

/** The status change an event makes, if it makes one: what `jobStatusChanged` reports. */
export function statusChangeOf(event: JobEvent): { from: JobStatus | null; to: JobStatus } | null {
  switch (event.type) {
    case 'JobCreated':
      return { from: null, to: 'QUEUED' };
    case 'JobClaimed':
      // Taking over an expired lease keeps the job RUNNING: no change.
      return event.data.takenOverFrom === null ? { from: 'QUEUED', to: 'RUNNING' } : null;
    case 'JobCompleted':
      return { from: 'RUNNING', to: 'SUCCEEDED' };
    case 'JobFailed':
      return { from: 'RUNNING', to: event.data.requeued ? 'QUEUED' : 'FAILED' };
    case 'JobReleased':
      return { from: 'RUNNING', to: 'QUEUED' };
    case 'JobCancelled':
      return { from: event.data.from, to: 'CANCELLED' };
    case 'JobPruned':
      return { from: 'RUNNING', to: 'PRUNED' };
    case 'JobRetried':
      return { from: event.data.from, to: 'QUEUED' };
    case 'JobRetrained':
      return event.data.from === 'QUEUED' ? null : { from: event.data.from, to: 'QUEUED' };
    default:
      return null;
  }
}
