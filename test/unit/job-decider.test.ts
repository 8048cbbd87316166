/**
 * The job decider as specifications: given the job's past events, when a
 * command arrives, then these events are decided, or this error.
 */
import { describe, expect, it } from 'vitest';
import { decideJob, type JobCommand } from '../../src/domain/job/decide.js';
import { jobData } from '../../src/app/job-ids.js';
import {
  STATUS_CHANGING_EVENT_TYPES,
  jobEventSchemas,
  statusChangeOf,
  type NewJobEvent,
} from '../../src/domain/job/events.js';
import { evolveJob, type MaybeJob } from '../../src/domain/job/state.js';
import type { EarlyStopping } from '../../src/domain/job/early-stopping.js';
import { at, deciderSpec, stateAfter } from '../helpers/decider-spec.js';
import { seriesBeforeOf } from '../../src/domain/experiment/pruners.js';

const TOKEN = 'hash-of-token-1';
const OTHER_TOKEN = 'hash-of-token-2';

const { given } = deciderSpec({ decide: decideJob, evolve: evolveJob, initialState: undefined as MaybeJob });

/** A job as Trialog creates one (the same defaults), with what the spec sets. */
const created = (overrides: Partial<Extract<NewJobEvent, { type: 'JobCreated' }>['data']> = {}): NewJobEvent => ({
  type: 'JobCreated',
  data: jobData('job_1', { hyperparameters: { lr: 0.1 }, ...overrides }),
});

const claimed = (attempt = 1, expiresAt = at(300), workerId = 'w1', leaseTokenHash = TOKEN): NewJobEvent => ({
  type: 'JobClaimed',
  data: {
    workerId,
    leaseTokenHash,
    leaseExpiresAt: expiresAt.toISOString(),
    leaseSeconds: 300,
    attempt,
    takenOverFrom: attempt > 1 ? 'w0' : null,
  },
});

const claim = (now = at(10), leaseTokenHash = OTHER_TOKEN): JobCommand => ({
  type: 'ClaimJob',
  workerId: 'w2',
  leaseTokenHash,
  leaseSeconds: 60,
  now,
});

const createCommand: JobCommand = {
  type: 'CreateJob',
  ...(created() as Extract<NewJobEvent, { type: 'JobCreated' }>).data,
};

describe('creating a job', () => {
  it('given no job, when created, then JobCreated', () => {
    given([]).when(createCommand).then([created()]);
  });
  it('given the job exists, when created again, then CONFLICT', () => {
    given([created()]).when(createCommand).thenError('CONFLICT');
  });
  it('given no job, when any other command arrives, then NOT_FOUND', () => {
    given([]).when({ type: 'CancelJob', reason: null }).thenError('NOT_FOUND');
  });
});

describe('claiming', () => {
  it('given a queued job, when claimed, then JobClaimed with attempt 1 and the lease expiry', () => {
    given([created()])
      .when(claim(at(10)))
      .then([
        {
          type: 'JobClaimed',
          data: {
            workerId: 'w2',
            leaseTokenHash: OTHER_TOKEN,
            leaseExpiresAt: at(70).toISOString(),
            leaseSeconds: 60,
            attempt: 1,
            takenOverFrom: null,
          },
        },
      ]);
  });

  it('given a running job under a live lease, when claimed, then CONFLICT naming RUNNING', () => {
    given([created(), claimed(1, at(300))])
      .when(claim(at(10)))
      .thenError('CONFLICT', /RUNNING/);
  });

  it('given a running job whose lease expired, when claimed, then it is taken over and counts an attempt', () => {
    given([created(), claimed(1, at(5))])
      .when(claim(at(10)))
      .then([
        {
          type: 'JobClaimed',
          data: {
            workerId: 'w2',
            leaseTokenHash: OTHER_TOKEN,
            leaseExpiresAt: at(70).toISOString(),
            leaseSeconds: 60,
            attempt: 2,
            takenOverFrom: 'w1',
          },
        },
      ]);
  });

  it('given an expired lease on the last attempt, when claimed, then the job FAILS with the reason', () => {
    given([created({ maxAttempts: 2 }), claimed(1, at(1)), claimed(2, at(5))])
      .when(claim(at(10)))
      .then([{ type: 'JobFailed', data: { error: 'lease of worker w1 expired on attempt 2 of 2', requeued: false } }]);
  });

  for (const [status, history] of [
    ['SUCCEEDED', [created(), claimed(), { type: 'JobCompleted', data: { result: null, artifacts: [] } }]],
    ['CANCELLED', [created(), { type: 'JobCancelled', data: { reason: null, from: 'QUEUED' } }]],
    ['FAILED', [created(), claimed(), { type: 'JobFailed', data: { error: 'x', requeued: false } }]],
  ] as const) {
    it(`given a ${status} job, when claimed, then CONFLICT naming ${status}`, () => {
      given([...history] as NewJobEvent[])
        .when(claim())
        .thenError('CONFLICT', new RegExp(status));
    });
  }
});

describe('the lease fences every worker call', () => {
  const running = [created(), claimed()];
  const workerCommands: JobCommand[] = [
    { type: 'Heartbeat', leaseTokenHash: OTHER_TOKEN, progress: 0.5, leaseSeconds: null, now: at(10) },
    {
      type: 'ReportMetrics',
      leaseTokenHash: OTHER_TOKEN,
      points: [{ name: 'loss', value: 1, step: null, timestamp: null }],
      now: at(10),
    },
    { type: 'AppendLog', leaseTokenHash: OTHER_TOKEN, lines: ['x'], stream: 'STDOUT' },
    { type: 'CompleteJob', leaseTokenHash: OTHER_TOKEN, result: null, artifacts: [] },
    { type: 'FailJob', leaseTokenHash: OTHER_TOKEN, error: 'boom', retry: true },
    { type: 'ReleaseJob', leaseTokenHash: OTHER_TOKEN, reason: null },
  ];
  for (const command of workerCommands) {
    it(`given a running job, when ${command.type} comes with a stale token, then LEASE_LOST`, () => {
      given(running).when(command).thenError('LEASE_LOST');
    });
  }

  it('given a lease taken over by another worker, when the old holder reports, then LEASE_LOST', () => {
    given([created(), claimed(1, at(1)), claimed(2, at(300), 'w2', OTHER_TOKEN)])
      .when({ type: 'CompleteJob', leaseTokenHash: TOKEN, result: null, artifacts: [] })
      .thenError('LEASE_LOST');
  });

  it('given an expired lease nobody took over, when its holder heartbeats, then the lease is extended', () => {
    given([created(), claimed(1, at(1))])
      .when({ type: 'Heartbeat', leaseTokenHash: TOKEN, progress: null, leaseSeconds: 30, now: at(10) })
      .then([{ type: 'JobHeartbeat', data: { leaseExpiresAt: at(40).toISOString(), progress: null } }]);
  });
});

describe('heartbeats', () => {
  it('given a running job, when heartbeat without a duration, then the claim duration extends the lease', () => {
    given([created(), claimed()])
      .when({ type: 'Heartbeat', leaseTokenHash: TOKEN, progress: 0.25, leaseSeconds: null, now: at(100) })
      .then([{ type: 'JobHeartbeat', data: { leaseExpiresAt: at(400).toISOString(), progress: 0.25 } }]);
  });

  it('given a running job that was cancelled, when its worker heartbeats, then no event: the worker learns to stop', () => {
    given([created(), claimed(), { type: 'JobCancelled', data: { reason: 'enough', from: 'RUNNING' } }])
      .when({ type: 'Heartbeat', leaseTokenHash: TOKEN, progress: null, leaseSeconds: null, now: at(10) })
      .then([]);
  });

  it('given a cancelled job, when its worker reports a metric, then LEASE_LOST', () => {
    given([created(), claimed(), { type: 'JobCancelled', data: { reason: null, from: 'RUNNING' } }])
      .when({
        type: 'ReportMetrics',
        leaseTokenHash: TOKEN,
        points: [{ name: 'a', value: 1, step: null, timestamp: null }],
        now: at(10),
      })
      .thenError('LEASE_LOST', /CANCELLED/);
  });
});

describe('metrics', () => {
  const running: NewJobEvent[] = [
    created(),
    claimed(),
    {
      type: 'JobMetricsReported',
      data: { points: [{ name: 'loss', step: 4, value: 0.9, timestamp: at(1).toISOString() }] },
    },
  ];

  it("when a point has no step, then it is one past the series' last; per series, and within one batch", () => {
    given(running)
      .when({
        type: 'ReportMetrics',
        leaseTokenHash: TOKEN,
        points: [
          { name: 'loss', value: 0.8, step: null, timestamp: null },
          { name: 'loss', value: 0.7, step: null, timestamp: null },
          { name: 'acc', value: 0.5, step: null, timestamp: '2026-01-01T00:00:03.000Z' },
        ],
        now: at(10),
      })
      .then([
        {
          type: 'JobMetricsReported',
          data: {
            points: [
              { name: 'loss', step: 5, value: 0.8, timestamp: at(10).toISOString() },
              { name: 'loss', step: 6, value: 0.7, timestamp: at(10).toISOString() },
              { name: 'acc', step: 0, value: 0.5, timestamp: '2026-01-01T00:00:03.000Z' },
            ],
          },
        },
      ]);
  });

  for (const [name, value, why] of [
    ['has space', 1, /must match/],
    ['', 1, /must match/],
    ['x'.repeat(129), 1, /must match/],
    ['loss', Number.NaN, /finite/],
    ['loss', Number.POSITIVE_INFINITY, /finite/],
  ] as const) {
    it(`when a point is ${JSON.stringify(name).slice(0, 20)}=${value}, then BAD_USER_INPUT`, () => {
      given(running)
        .when({
          type: 'ReportMetrics',
          leaseTokenHash: TOKEN,
          points: [{ name, value, step: null, timestamp: null }],
          now: at(10),
        })
        .thenError('BAD_USER_INPUT', why);
    });
  }

  it('accepts the whole allowed alphabet of names', () => {
    given(running)
      .when({
        type: 'ReportMetrics',
        leaseTokenHash: TOKEN,
        points: [{ name: 'val/acc-top_1.5', value: 1, step: 0, timestamp: null }],
        now: at(10),
      })
      .then([
        {
          type: 'JobMetricsReported',
          data: { points: [{ name: 'val/acc-top_1.5', step: 0, value: 1, timestamp: at(10).toISOString() }] },
        },
      ]);
  });

  it("given a series at the largest step (2^31 - 1, GraphQL's largest Int), when a point has no step, then BAD_USER_INPUT and nothing is written", () => {
    const atLastStep: NewJobEvent = {
      type: 'JobMetricsReported',
      data: { points: [{ name: 'loss', step: 2 ** 31 - 1, value: 0.1, timestamp: at(1).toISOString() }] },
    };
    given([created(), claimed(), atLastStep])
      .when({
        type: 'ReportMetrics',
        leaseTokenHash: TOKEN,
        points: [{ name: 'loss', value: 0.2, step: null, timestamp: null }],
        now: at(10),
      })
      .thenError('BAD_USER_INPUT', /largest step/);
  });

  it('when a point gives a step past 2^31 - 1, then BAD_USER_INPUT', () => {
    given(running)
      .when({
        type: 'ReportMetrics',
        leaseTokenHash: TOKEN,
        points: [{ name: 'loss', value: 0.2, step: 2 ** 31, timestamp: null }],
        now: at(10),
      })
      .thenError('BAD_USER_INPUT', /from 0 to 2147483647/);
  });
});

describe('logs', () => {
  it('given lines already appended, when more are appended, then their offsets continue contiguously', () => {
    given([
      created(),
      claimed(),
      { type: 'JobLogAppended', data: { stream: 'STDOUT', firstOffset: 0, lines: ['a', 'b'] } },
    ])
      .when({ type: 'AppendLog', leaseTokenHash: TOKEN, lines: ['c'], stream: 'STDERR' })
      .then([{ type: 'JobLogAppended', data: { stream: 'STDERR', firstOffset: 2, lines: ['c'] } }]);
  });
});

describe('numbered worker calls (sequence): a retry answers as the first call did, anything else is refused', () => {
  const point = { name: 'loss', value: 0.5, step: null, timestamp: null };
  const report = (sequence: number, digest = `d${sequence}`): JobCommand => ({
    type: 'ReportMetrics',
    leaseTokenHash: TOKEN,
    points: [point],
    now: at(20),
    sequence,
    digest,
  });
  const append = (sequence: number, digest = `d${sequence}`): JobCommand => ({
    type: 'AppendLog',
    leaseTokenHash: TOKEN,
    lines: ['x'],
    stream: 'STDOUT',
    sequence,
    digest,
  });
  const reported = (sequence: number, digest = `d${sequence}`): NewJobEvent => ({
    type: 'JobMetricsReported',
    data: { points: [{ name: 'loss', step: 0, value: 0.5, timestamp: at(2).toISOString() }], sequence, digest },
  });
  const appended = (sequence: number, digest = `d${sequence}`): NewJobEvent => ({
    type: 'JobLogAppended',
    data: { stream: 'STDOUT', firstOffset: 0, lines: ['x'], sequence, digest },
  });

  it('given report 7, when report 7 arrives again with the same content, then nothing is written', () => {
    given([created(), claimed(), reported(7)])
      .when(report(7))
      .then([]);
  });
  it('given report 7, when report 6 arrives, then CONFLICT: the sequence went backwards (never a silent drop)', () => {
    given([created(), claimed(), reported(7)])
      .when(report(6))
      .thenError('CONFLICT', /went backwards.*6.*7/);
  });
  it('given report 7, when report 7 arrives with other content, then CONFLICT: the number was used by another call', () => {
    given([created(), claimed(), reported(7)])
      .when(report(7, 'other'))
      .thenError('CONFLICT', /sequence 7 .*another call/);
  });
  it('given report 7 recorded before calls had digests, when report 7 arrives again, then it is taken as the retry', () => {
    const old: NewJobEvent = { type: 'JobMetricsReported', data: { points: [], sequence: 7 } };
    given([created(), claimed(), old]).when(report(7)).then([]);
  });
  it('given report 7, when report 8 arrives, then it is recorded with its number and digest', () => {
    given([created(), claimed(), reported(7)])
      .when(report(8))
      .then([
        {
          type: 'JobMetricsReported',
          data: {
            points: [{ name: 'loss', step: 1, value: 0.5, timestamp: at(20).toISOString() }],
            sequence: 8,
            digest: 'd8',
          },
        },
      ]);
  });
  it('given report 7 under an old lease, when the new lease reports 1, then it is recorded', () => {
    given([created(), claimed(1, at(5)), reported(7), claimed(2, at(300), 'w2', OTHER_TOKEN)])
      .when({ ...report(1), leaseTokenHash: OTHER_TOKEN } as JobCommand)
      .then([
        {
          type: 'JobMetricsReported',
          data: {
            points: [{ name: 'loss', step: 1, value: 0.5, timestamp: at(20).toISOString() }],
            sequence: 1,
            digest: 'd1',
          },
        },
      ]);
  });
  it('given a stale lease, when it reports a lower number, then LEASE_LOST (the lease speaks first)', () => {
    given([created(), claimed(1, at(5)), reported(7), claimed(2, at(300), 'w2', OTHER_TOKEN)])
      .when(report(6))
      .thenError('LEASE_LOST');
  });
  it('given log append 7, when append 6 arrives, then CONFLICT: the sequence went backwards', () => {
    given([created(), claimed(), appended(7)])
      .when(append(6))
      .thenError('CONFLICT', /went backwards/);
  });
  it('given log append 7, when append 7 arrives with other lines, then CONFLICT', () => {
    given([created(), claimed(), appended(7)])
      .when(append(7, 'other'))
      .thenError('CONFLICT', /another call/);
  });
  it('given log append 7, when append 7 arrives again, then nothing is written', () => {
    given([created(), claimed(), appended(7)])
      .when(append(7))
      .then([]);
  });
});

describe('finishing', () => {
  const running = [created({ maxAttempts: 2 }), claimed()];

  it('when completed, then JobCompleted with result and artifacts', () => {
    const artifacts = [{ name: 'model', uri: 'file:///m.pt', sha256: null, metadata: null }];
    given(running)
      .when({ type: 'CompleteJob', leaseTokenHash: TOKEN, result: { acc: 0.9 }, artifacts })
      .then([{ type: 'JobCompleted', data: { result: { acc: 0.9 }, artifacts } }]);
  });

  it('when failed with retry and attempts remain, then requeued', () => {
    given(running)
      .when({ type: 'FailJob', leaseTokenHash: TOKEN, error: 'oom', retry: true })
      .then([{ type: 'JobFailed', data: { error: 'oom', requeued: true } }]);
  });

  it('when failed with retry on the last attempt, then FAILED for good', () => {
    given([...running, { type: 'JobFailed', data: { error: 'oom', requeued: true } }, claimed(2)])
      .when({ type: 'FailJob', leaseTokenHash: TOKEN, error: 'oom again', retry: true })
      .then([{ type: 'JobFailed', data: { error: 'oom again', requeued: false } }]);
  });

  it('when released, then JobReleased', () => {
    given(running)
      .when({ type: 'ReleaseJob', leaseTokenHash: TOKEN, reason: 'worker stopping' })
      .then([{ type: 'JobReleased', data: { reason: 'worker stopping' } }]);
  });

  it('given a released job, then it is queued again, its attempt given back and its lease gone', () => {
    const released = stateAfter({ evolve: evolveJob, initialState: undefined as MaybeJob }, [
      ...running,
      { type: 'JobReleased', data: { reason: null } },
    ] as NewJobEvent[]);
    expect(released).toMatchObject({ status: 'QUEUED', attempts: 0, leaseTokenHash: null });
  });

  it('given a job released on its last attempt, when claimed again, then the claim is that attempt again, not one past it', () => {
    given([
      ...running,
      { type: 'JobFailed', data: { error: 'oom', requeued: true } },
      claimed(2),
      { type: 'JobReleased', data: { reason: null } },
    ])
      .when(claim())
      .then([
        {
          type: 'JobClaimed',
          data: {
            workerId: 'w2',
            leaseTokenHash: OTHER_TOKEN,
            leaseExpiresAt: at(70).toISOString(),
            leaseSeconds: 60,
            attempt: 2,
            takenOverFrom: null,
          },
        },
      ]);
  });

  it('when failed without retry, then FAILED', () => {
    given(running)
      .when({ type: 'FailJob', leaseTokenHash: TOKEN, error: 'bad data', retry: false })
      .then([{ type: 'JobFailed', data: { error: 'bad data', requeued: false } }]);
  });
});

describe('cancel and retry', () => {
  it('given a queued job, when cancelled, then JobCancelled from QUEUED', () => {
    given([created()])
      .when({ type: 'CancelJob', reason: 'not needed' })
      .then([{ type: 'JobCancelled', data: { reason: 'not needed', from: 'QUEUED' } }]);
  });

  it('given a succeeded job, when cancelled, then CONFLICT naming SUCCEEDED', () => {
    given([created(), claimed(), { type: 'JobCompleted', data: { result: null, artifacts: [] } }])
      .when({ type: 'CancelJob', reason: null })
      .thenError('CONFLICT', /SUCCEEDED/);
  });

  it('given a job that used all its attempts and failed, when retried, then queued with one more attempt', () => {
    given([created({ maxAttempts: 1 }), claimed(), { type: 'JobFailed', data: { error: 'x', requeued: false } }])
      .when({ type: 'RetryJob' })
      .then([{ type: 'JobRetried', data: { from: 'FAILED', maxAttempts: 2 } }]);
  });

  it('given a cancelled job with attempts left, when retried, then queued with the same budget', () => {
    given([created(), { type: 'JobCancelled', data: { reason: null, from: 'QUEUED' } }])
      .when({ type: 'RetryJob' })
      .then([{ type: 'JobRetried', data: { from: 'CANCELLED', maxAttempts: 3 } }]);
  });

  for (const [status, history] of [
    ['QUEUED', [created()]],
    ['RUNNING', [created(), claimed()]],
    ['SUCCEEDED', [created(), claimed(), { type: 'JobCompleted', data: { result: null, artifacts: [] } }]],
  ] as const) {
    it(`given a ${status} job, when retried, then CONFLICT naming ${status}`, () => {
      given([...history] as NewJobEvent[])
        .when({ type: 'RetryJob' })
        .thenError('CONFLICT', new RegExp(status));
    });
  }
});

describe('early stopping: a report is judged as it is recorded', () => {
  const running = [created({ experimentId: 'exp_1', trialIndex: 3 }), claimed()] as NewJobEvent[];
  const stamp = at(10).toISOString();
  const point = (name: string, step: number, value: number) => ({ name, value, step, timestamp: null });
  const stored = (name: string, step: number, value: number) => ({ name, step, value, timestamp: stamp });
  const steps = (values: number[]) => new Map(values.map((value, step) => [step, value]));
  /** Minimize loss; prune below the median of completed trials from step 1 on. */
  const median = (completed: Map<number, number>[], baseline = new Map<number, number>()): EarlyStopping => ({
    metric: 'loss',
    direction: 'MINIMIZE',
    median: { startupJobs: 1, warmupSteps: 1, intervalSteps: 1, minJobs: 1 },
    successiveHalving: null,
    baseline: seriesBeforeOf(baseline),
    completed,
    recordedAt: () => [],
  });
  // At step 1 the completed trials have 0.8, 1.0 and 0.6: their median is 0.8, from 3 trials.
  const completed = [steps([1.0, 0.8, 0.5]), steps([1.2, 1.0, 0.9]), steps([0.9, 0.6])];
  const report = (points: ReturnType<typeof point>[], earlyStopping: EarlyStopping): JobCommand => ({
    type: 'ReportMetrics',
    leaseTokenHash: TOKEN,
    points,
    now: at(10),
    earlyStopping,
  });

  it('given completed trials, when a point is worse than their median at its step, then the job is pruned with that median and their number', () => {
    given(running)
      .when(report([point('loss', 0, 2), point('loss', 1, 1.5)], median(completed)))
      .then([
        { type: 'JobMetricsReported', data: { points: [stored('loss', 0, 2), stored('loss', 1, 1.5)] } },
        {
          type: 'JobPruned',
          data: { rule: 'median', step: 1, value: 1.5, threshold: 0.8, comparedTrials: 3, rung: null },
        },
      ]);
  });

  it('given completed trials, when a batch whose early point prunes carries later points, then it keeps none past the pruning step, of any metric', () => {
    given(running)
      .when(
        report(
          [
            point('loss', 0, 2),
            point('acc', 0, 0.1),
            point('loss', 1, 1.5),
            point('acc', 1, 0.2),
            point('loss', 2, 0.1),
            point('acc', 2, 0.9),
          ],
          median(completed),
        ),
      )
      .then([
        {
          type: 'JobMetricsReported',
          data: {
            points: [stored('loss', 0, 2), stored('acc', 0, 0.1), stored('loss', 1, 1.5), stored('acc', 1, 0.2)],
          },
        },
        {
          type: 'JobPruned',
          data: { rule: 'median', step: 1, value: 1.5, threshold: 0.8, comparedTrials: 3, rung: null },
        },
      ]);
  });

  it('given the job reported step 1 before, when the same step comes again, then its first value stands and it is not judged again', () => {
    given(running)
      .when(report([point('loss', 1, 9), point('loss', 2, 0.1)], median(completed, steps([0.9, 0.7]))))
      .then([{ type: 'JobMetricsReported', data: { points: [stored('loss', 1, 9), stored('loss', 2, 0.1)] } }]);
  });

  it('given a report as good as the median, then it is recorded whole and the job runs on', () => {
    given(running)
      .when(report([point('loss', 0, 2), point('loss', 1, 0.8), point('loss', 2, 0.4)], median(completed)))
      .then([
        {
          type: 'JobMetricsReported',
          data: { points: [stored('loss', 0, 2), stored('loss', 1, 0.8), stored('loss', 2, 0.4)] },
        },
      ]);
  });

  it("given rungs the job reached, when successive halving stops it at a later rung, then the new rungs and the rung's cutoff from every value recorded there", () => {
    const halving: EarlyStopping = {
      metric: 'loss',
      direction: 'MINIMIZE',
      median: null,
      successiveHalving: { minSteps: 1, reductionFactor: 2, maxSteps: null },
      baseline: seriesBeforeOf(steps([3, 1])),
      completed: [],
      // Rung 1 (step 2): three others recorded 0.2, 0.4 and 0.9; with this one's 0.5 the best half is kept, the cutoff 0.4.
      recordedAt: (rung) => (rung === 1 ? [0.9, 0.2, 0.4] : []),
    };
    given([...running, { type: 'JobRungsReached', data: { rungs: [{ rung: 0, value: 1 }] } }])
      .when(report([point('loss', 2, 0.5), point('loss', 3, 0.3), point('loss', 4, 0.1)], halving))
      .then([
        { type: 'JobMetricsReported', data: { points: [stored('loss', 2, 0.5)] } },
        { type: 'JobRungsReached', data: { rungs: [{ rung: 1, value: 0.5 }] } },
        {
          type: 'JobPruned',
          data: { rule: 'successiveHalving', step: 2, value: 0.5, threshold: 0.4, comparedTrials: 4, rung: 1 },
        },
      ]);
  });

  const pruned: NewJobEvent = {
    type: 'JobPruned',
    data: { rule: 'median', step: 1, value: 1.5, threshold: 0.8, comparedTrials: 3, rung: null },
  };
  const stateOf = (events: NewJobEvent[]) =>
    stateAfter({ evolve: evolveJob, initialState: undefined as MaybeJob }, events)!;

  it('given a pruned job, then it holds why it was pruned', () => {
    expect(stateOf([...running, pruned]).pruning).toEqual(pruned.data);
  });

  it('given a pruned job that was retried, then it holds no pruning decision', () => {
    expect(
      stateOf([...running, pruned, { type: 'JobRetried', data: { from: 'PRUNED', maxAttempts: 3 } }]).pruning,
    ).toBeNull();
  });
});

describe('status changes', () => {
  it('every event that changes a status is listed as one that may (jobStatusChanged listens only to those)', () => {
    const samples = [
      created(),
      claimed(),
      { type: 'JobCompleted', data: { result: null, artifacts: [] } },
      { type: 'JobFailed', data: { error: 'x', requeued: true } },
      { type: 'JobReleased', data: { reason: null } },
      { type: 'JobCancelled', data: { reason: null, from: 'RUNNING' } },
      { type: 'JobPruned', data: { rule: 'median', step: 1, value: 1, threshold: 0.5, comparedTrials: 2, rung: null } },
      { type: 'JobRetried', data: { from: 'FAILED', maxAttempts: 3 } },
      { type: 'JobRetrained', data: { from: 'SUCCEEDED', fromVersion: 1, algorithmVersion: 2 } },
      { type: 'JobHeartbeat', data: { leaseExpiresAt: at(1).toISOString(), progress: null } },
      { type: 'JobMetricsReported', data: { points: [] } },
      { type: 'JobLogAppended', data: { stream: 'STDOUT', firstOffset: 0, lines: [] } },
      { type: 'JobRungsReached', data: { rungs: [] } },
    ] as NewJobEvent[];
    expect(new Set(samples.map((e) => e.type))).toEqual(new Set(Object.keys(jobEventSchemas)));
    for (const event of samples) {
      const change = statusChangeOf({ ...event, timestamp: at(0).toISOString() });
      if (change) expect(STATUS_CHANGING_EVENT_TYPES.has(event.type)).toBe(true);
    }
  });
});
