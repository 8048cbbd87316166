/**
 * Which job events may follow which status, as specifications: given a job's
 * past events, when the next recorded event is checked (what `trialog verify`
 * does over every job's history), then it may follow, or this is why not.
 */
import { jobData } from '../../src/app/job-ids.js';
import { describe, expect, it } from 'vitest';
import { decideJob, type JobCommand } from '../../src/domain/job/decide.js';
import type { JobEventType, JobStatus, NewJobEvent } from '../../src/domain/job/events.js';
import { evolveJob, type MaybeJob } from '../../src/domain/job/state.js';
import { illegalTransition } from '../../src/domain/job/transitions.js';
import { at, stateAfter } from '../helpers/decider-spec.js';

const job = { evolve: evolveJob, initialState: undefined as MaybeJob };
const TOKEN = 'hash-of-token-1';

const created: NewJobEvent = {
  type: 'JobCreated',
  data: jobData('job_1', { algorithmId: 'A', algorithmVersion: 1 }),
};
const claimed = (takenOverFrom: string | null = null): NewJobEvent => ({
  type: 'JobClaimed',
  data: {
    workerId: 'w1',
    leaseTokenHash: TOKEN,
    leaseExpiresAt: at(300).toISOString(),
    leaseSeconds: 300,
    attempt: 1,
    takenOverFrom,
  },
});

/** One event of each type, as it may be recorded. */
const sample: Record<JobEventType, NewJobEvent> = {
  JobCreated: created,
  JobClaimed: claimed(),
  JobHeartbeat: { type: 'JobHeartbeat', data: { leaseExpiresAt: at(400).toISOString(), progress: null } },
  JobMetricsReported: { type: 'JobMetricsReported', data: { points: [] } },
  JobLogAppended: { type: 'JobLogAppended', data: { stream: 'STDOUT', firstOffset: 0, lines: ['x'] } },
  JobCompleted: { type: 'JobCompleted', data: { result: null, artifacts: [] } },
  JobFailed: { type: 'JobFailed', data: { error: 'x', requeued: false } },
  JobReleased: { type: 'JobReleased', data: { reason: null } },
  JobCancelled: { type: 'JobCancelled', data: { reason: null, from: 'RUNNING' } },
  JobRungsReached: { type: 'JobRungsReached', data: { rungs: [{ rung: 0, value: 1 }] } },
  JobPruned: {
    type: 'JobPruned',
    data: { rule: 'median', step: 1, value: 1, threshold: 0.5, comparedTrials: 2, rung: null },
  },
  JobRetrained: { type: 'JobRetrained', data: { from: 'SUCCEEDED', fromVersion: 1, algorithmVersion: 2 } },
  JobRetried: { type: 'JobRetried', data: { from: 'FAILED', maxAttempts: 3 } },
};

const histories: Record<JobStatus, NewJobEvent[]> = {
  QUEUED: [created],
  RUNNING: [created, claimed()],
  SUCCEEDED: [created, claimed(), sample.JobCompleted],
  FAILED: [created, claimed(), sample.JobFailed],
  CANCELLED: [created, { type: 'JobCancelled', data: { reason: null, from: 'QUEUED' } }],
  PRUNED: [created, claimed(), sample.JobPruned],
};

/** Why `next` may not follow `history`, or null. */
const check = (history: NewJobEvent[], next: NewJobEvent) =>
  illegalTransition(stateAfter(job, history), { ...next, timestamp: at(history.length).toISOString() });

describe('the first event', () => {
  it('given no job, when JobCreated is recorded, then it may be', () => {
    expect(check([], created)).toBeNull();
  });

  it('given no job, when any other event is recorded, then it is refused as coming before JobCreated', () => {
    expect(check([], sample.JobClaimed)).toBe('JobClaimed before JobCreated');
  });

  it('given a job, when JobCreated is recorded again, then it is refused as JobCreated twice', () => {
    expect(check([created], created)).toBe('JobCreated twice');
  });
});

const allowed: Record<JobStatus, JobEventType[]> = {
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

describe('what may follow each status', () => {
  for (const [status, may] of Object.entries(allowed) as [JobStatus, JobEventType[]][]) {
    const mayNot = (Object.keys(sample) as JobEventType[]).filter(
      (type) => type !== 'JobCreated' && !may.includes(type),
    );
    // The RUNNING job's JobClaimed must take the lease over: that case has specs of its own below.
    const history = histories[status];
    it(`given a ${status} job, then ${may.join(', ')} may follow`, () => {
      for (const type of may) {
        const next = status === 'RUNNING' && type === 'JobClaimed' ? claimed('w0') : sample[type];
        expect(check(history, next), type).toBeNull();
      }
    });
    if (mayNot.length > 0) {
      it(`given a ${status} job, then ${mayNot.join(', ')} may not, each refused naming the status`, () => {
        for (const type of mayNot) expect(check(history, sample[type])).toBe(`${type} on a ${status} job`);
      });
    }
  }
});

describe('claims of a running job', () => {
  it('given a RUNNING job, when a claim takes over its expired lease, then it may follow', () => {
    expect(check(histories.RUNNING, claimed('w1'))).toBeNull();
  });

  it('given a RUNNING job, when a claim names no lease it took over, then it is refused', () => {
    expect(check(histories.RUNNING, claimed(null))).toBe('a RUNNING job claimed without taking over its lease');
  });
});

describe("the decider's events always verify", () => {
  const cases: [string, NewJobEvent[], JobCommand][] = [
    [
      'claim of a queued job',
      [created],
      { type: 'ClaimJob', workerId: 'w', leaseTokenHash: 't', leaseSeconds: 60, now: at(5) },
    ],
    [
      'takeover of an expired lease',
      [created, { ...claimed(), data: { ...claimed().data, leaseExpiresAt: at(2).toISOString() } } as NewJobEvent],
      { type: 'ClaimJob', workerId: 'w2', leaseTokenHash: 't2', leaseSeconds: 60, now: at(10) },
    ],
    ['completion', histories.RUNNING, { type: 'CompleteJob', leaseTokenHash: TOKEN, result: null, artifacts: [] }],
    ['requeueing failure', histories.RUNNING, { type: 'FailJob', leaseTokenHash: TOKEN, error: 'x', retry: true }],
    ['release', histories.RUNNING, { type: 'ReleaseJob', leaseTokenHash: TOKEN, reason: null }],
    ['cancel of a queued job', histories.QUEUED, { type: 'CancelJob', reason: null }],
    ['retry of a failed job', histories.FAILED, { type: 'RetryJob' }],
    ['retry of a pruned job', histories.PRUNED, { type: 'RetryJob' }],
  ];
  for (const [what, history, command] of cases) {
    it(`given the ${what}, then every event decided may follow the history`, () => {
      const decided = decideJob(stateAfter(job, history), command);
      expect(decided.length).toBeGreaterThan(0);
      const recorded = [...history];
      for (const event of decided) {
        expect(check(recorded, event)).toBeNull();
        recorded.push(event);
      }
    });
  }
});
