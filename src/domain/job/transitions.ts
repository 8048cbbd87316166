/**
 * Which job events may follow which status: what `trialog verify` checks
 * every job's history against. (The decider never writes anything else; a
 * log edited by hand, or imported, might.)
 */
import type { JobEvent, JobEventType, JobStatus } from './events.js';
import type { MaybeJob } from './state.js';

const ALLOWED: Record<JobStatus, readonly JobEventType[]> = {
  QUEUED: ['JobClaimed', 'JobCancelled', 'JobRetrained'],
  RUNNING: [
    'JobClaimed',
    'JobHeartbeat',
    'JobMetricsReported',
    'JobLogAppended',
    'JobCompleted',
    'JobFailed',
    'JobReleased',
    'JobCancelled',
    'JobRungsReached',
    'JobPruned',
    'JobRetrained',
  ],
  SUCCEEDED: ['JobRetrained'],
  FAILED: ['JobRetried', 'JobRetrained'],
  CANCELLED: ['JobRetried', 'JobRetrained'],
  PRUNED: ['JobRetried', 'JobRetrained'],
};

/** Why `event` cannot follow `state`, or null when it may. */
export function illegalTransition(state: MaybeJob, event: JobEvent): string | null {
  if (!state) return event.type === 'JobCreated' ? null : `${event.type} before JobCreated`;
  if (event.type === 'JobCreated') return 'JobCreated twice';
  if (!ALLOWED[state.status].includes(event.type)) return `${event.type} on a ${state.status} job`;
  if (event.type === 'JobClaimed' && state.status === 'RUNNING' && event.data.takenOverFrom === null) {
    return 'a RUNNING job claimed without taking over its lease';
  }
  return null;
}
