/**
 * Experiments over real HTTP: settings validation, unique names, seeded
 * random search, grid search, caps, pause/resume/finish, ranking, the stop
 * threshold, early stopping, and the read models rebuilt from zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../../src/domain/experiment/sampling.js';
import { COMPLETE, FAIL, HEARTBEAT, REPORT_METRICS } from '../helpers/jobs.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { collect, errorCode, ok, startTestServer, wsClient, type Gql, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const EXPERIMENT_FIELDS = `id name status scheduler config maxJobs maxConcurrent stopThreshold
  objective { metric direction } jobCounts { queued running succeeded failed cancelled pruned total }`;
const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { ${EXPERIMENT_FIELDS} } }`;

let seq = 0;
const uniqueName = (prefix: string) => `${prefix}-${++seq}-${Date.now()}`;

async function createExperiment(gql: Gql, input: Record<string, unknown>) {
  return ok(await gql(CREATE, { input: { name: uniqueName('exp'), ...input } })).createExperiment;
}

const experimentQuery = (fields: string) => `query($id: ID!) { experiment(id: $id) { ${fields} } }`;

interface TrialClaim {
  leaseToken: string;
  job: { id: string; hyperparameters: Record<string, unknown>; trialIndex?: number };
}

const CLAIM_TRIAL = `mutation($input: ClaimJobInput!) {
  claimJob(input: $input) { leaseToken job { id status hyperparameters generation } }
}`;

async function claimTrial(gql: Gql, experimentId: string, workerId = 'w'): Promise<TrialClaim | null> {
  return ok(await gql(CLAIM_TRIAL, { input: { workerId, experimentId } })).claimJob;
}

async function complete(gql: Gql, c: TrialClaim, result: Record<string, unknown> = {}) {
  return ok(await gql(COMPLETE, { input: { jobId: c.job.id, leaseToken: c.leaseToken, result } })).completeJob;
}

const SPACE = [
  { name: 'lr', distribution: { logUniform: { low: 1e-5, high: 1e-1 } } },
  { name: 'dropout', distribution: { uniform: { low: 0, high: 0.5 } } },
  { name: 'layers', distribution: { intUniform: { low: 2, high: 10, step: 2 } } },
  { name: 'optimizer', distribution: { choice: { values: ['adam', 'sgd', 'rmsprop'], weights: [1, 1, 0] } } },
  { name: 'init', distribution: { normal: { mean: 0, std: 0.1 } } },
  { name: 'scale', distribution: { logNormal: { mean: 0, std: 1 } } },
  { name: 'batch', distribution: { constant: 64 } },
];

describe('settings are validated, each error naming its field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'uniform low >= high',
      { scheduler: { random: { space: [{ name: 'x', distribution: { uniform: { low: 1, high: 1 } } }] } } },
      /low must be less than high/,
    ],
    [
      'log range not positive',
      { scheduler: { random: { space: [{ name: 'x', distribution: { logUniform: { low: 0, high: 1 } } }] } } },
      /log-uniform range must be positive/,
    ],
    [
      'int step 0',
      { scheduler: { random: { space: [{ name: 'x', distribution: { intUniform: { low: 0, high: 4, step: 0 } } }] } } },
      /step/,
    ],
    [
      'empty choice',
      { scheduler: { random: { space: [{ name: 'x', distribution: { choice: { values: [] } } }] } } },
      /at least one value/,
    ],
    [
      'weights that do not match',
      { scheduler: { random: { space: [{ name: 'x', distribution: { choice: { values: [1, 2], weights: [1] } } }] } } },
      /one entry per value/,
    ],
    [
      'std 0',
      { scheduler: { random: { space: [{ name: 'x', distribution: { normal: { mean: 0, std: 0 } } }] } } },
      /std must be > 0/,
    ],
    [
      'a parameter given twice',
      {
        scheduler: {
          random: {
            space: [
              { name: 'x', distribution: { constant: 1 } },
              { name: 'x', distribution: { constant: 2 } },
            ],
          },
        },
      },
      /given twice/,
    ],
    ['an empty grid parameter', { scheduler: { grid: { space: [{ name: 'x', values: [] }] } } }, /needs values/],
    [
      'interval steps 0',
      {
        objective: { metric: 'loss', direction: 'MINIMIZE' },
        scheduler: { manual: {} },
        earlyStopping: { median: { intervalSteps: 0 } },
      },
      /intervalSteps/,
    ],
    [
      'reduction factor 1',
      {
        objective: { metric: 'loss', direction: 'MINIMIZE' },
        scheduler: { manual: {} },
        earlyStopping: { successiveHalving: { reductionFactor: 1 } },
      },
      /reductionFactor must be at least 2/,
    ],
    [
      'early stopping without objective',
      { scheduler: { manual: {} }, earlyStopping: { median: {} } },
      /early stopping needs an objective/,
    ],
    [
      'a stop threshold without objective',
      { scheduler: { manual: {} }, stopThreshold: 1 },
      /stop threshold needs an objective/,
    ],
    ['maxConcurrent 0', { scheduler: { manual: {} }, maxConcurrent: 0 }, /maxConcurrent/],
    ['an empty name', { name: '  ', scheduler: { manual: {} } }, /name/],
  ];
  for (const [what, input, message] of cases) {
    it(`${what}: BAD_USER_INPUT`, async () => {
      const head = await t.trialog.store.headPosition();
      const response = await t.gql(CREATE, { input: { name: uniqueName('bad'), ...input } });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0]!.message).toMatch(message);
      expect(await t.trialog.store.headPosition()).toBe(head);
    });
  }
});

describe('creating experiments', () => {
  it('names are unique, also under concurrent creates', async () => {
    const name = uniqueName('unique');
    const attempts = await Promise.all(
      Array.from({ length: 6 }, () => t.gql(CREATE, { input: { name, scheduler: { manual: {} } } })),
    );
    expect(attempts.filter((a) => !a.errors)).toHaveLength(1);
    expect(attempts.filter((a) => errorCode(a) === 'CONFLICT')).toHaveLength(5);
    const byName = ok(
      await t.gql(`query($name: String) { experiment(name: $name) { name status } }`, { name }),
    ).experiment;
    expect(byName).toEqual({ name, status: 'RUNNING' });
  });

  it('config shows the settings after defaults, with the seed chosen for an unseeded search', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: [{ name: 'x', distribution: { uniform: { low: 0, high: 1 } } }], maxJobs: 5 } },
      earlyStopping: { median: {} },
    });
    expect(e).toMatchObject({ scheduler: 'RANDOM', maxJobs: 5, status: 'RUNNING' });
    expect(e.config.earlyStopping).toEqual({
      median: { startupJobs: 5, warmupSteps: 0, intervalSteps: 1, minJobs: 1 },
    });
    expect(Number.isInteger(e.config.scheduler.random.seed)).toBe(true);
    const node = ok(await t.gql(`query($id: ID!) { node(id: $id) { __typename id } }`, { id: e.id })).node;
    expect(node).toEqual({ __typename: 'Experiment', id: e.id });
  });
});

describe('random search', () => {
  it('samples every distribution within its bounds and steps', () => {
    for (let i = 0; i < 2000; i++) {
      const [lr, dropout, layers, optimizer, init, scale, batch] = SPACE.map((p) =>
        sample(p.distribution as never, `7:${i}:${p.name}`),
      );
      expect(lr).toBeGreaterThanOrEqual(1e-5);
      expect(lr).toBeLessThan(1e-1);
      expect(dropout).toBeGreaterThanOrEqual(0);
      expect(dropout).toBeLessThan(0.5);
      expect([2, 4, 6, 8, 10]).toContain(layers);
      expect(['adam', 'sgd']).toContain(optimizer); // rmsprop has weight 0
      expect(Number.isFinite(init as number)).toBe(true);
      expect(scale).toBeGreaterThan(0);
      expect(batch).toBe(64);
    }
  });

  it('the same seed gives the same trials, whatever the order of claims', async () => {
    const trialsOf = async (order: 'forwards' | 'interleaved') => {
      const e = await createExperiment(t.gql, { scheduler: { random: { space: SPACE, seed: 1234, maxJobs: 6 } } });
      const claims: TrialClaim[] = [];
      if (order === 'forwards') {
        for (let i = 0; i < 6; i++) claims.push((await claimTrial(t.gql, e.id))!);
      } else {
        claims.push(...((await Promise.all(Array.from({ length: 6 }, () => claimTrial(t.gql, e.id)))) as TrialClaim[]));
      }
      const jobs = ok(
        await t.gql(experimentQuery('jobs(first: 10) { edges { node { hyperparameters } } }'), { id: e.id }),
      ).experiment.jobs.edges;
      return { claims, jobs: jobs.map((edge: any) => edge.node.hyperparameters) };
    };
    const a = await trialsOf('forwards');
    const b = await trialsOf('interleaved');
    const sort = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    expect(sort(b.jobs)).toEqual(sort(a.jobs));
    expect(new Set(a.jobs.map((x: unknown) => JSON.stringify(x))).size).toBe(6);
  });

  it('8 concurrent HTTP workers on maxJobs 200 get exactly 200 distinct trials, then the experiment is DONE', async () => {
    const e = await createExperiment(t.gql, { scheduler: { random: { space: SPACE, seed: 99, maxJobs: 200 } } });
    const seen: string[] = [];
    const worker = async (name: string) => {
      for (;;) {
        const c = await claimTrial(t.gql, e.id, name);
        if (!c) return;
        seen.push(JSON.stringify(c.job.hyperparameters));
        await complete(t.gql, c);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(`w${i}`)));
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    const after = ok(await t.gql(experimentQuery('status jobCounts { succeeded total }'), { id: e.id })).experiment;
    expect(after).toEqual({ status: 'DONE', jobCounts: { succeeded: 200, total: 200 } });
  });
});

describe('grid search', () => {
  it('hands out every point of the cartesian product exactly once, in declared order, under concurrent claims', async () => {
    const e = await createExperiment(t.gql, {
      scheduler: {
        grid: {
          space: [
            { name: 'a', values: [1, 2, 3] },
            { name: 'b', values: ['x', 'y', 'z', 'w'] },
          ],
        },
      },
    });
    expect(e.maxJobs).toBe(12);
    const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => claimTrial(t.gql, e.id, `g${i}`)));
    const given = claims.filter((c): c is TrialClaim => c !== null);
    expect(given).toHaveLength(12);
    const points = given.map((c) => `${String(c.job.hyperparameters.a)}${String(c.job.hyperparameters.b)}`).sort();
    expect(points).toEqual(['1w', '1x', '1y', '1z', '2w', '2x', '2y', '2z', '3w', '3x', '3y', '3z']);
    const ordered = ok(
      await t.gql(experimentQuery('jobs(first: 20) { edges { node { hyperparameters } } }'), { id: e.id }),
    ).experiment.jobs.edges.map((edge: any) => edge.node.hyperparameters);
    expect(new Set(ordered.map((h: any) => `${h.a}${h.b}`)).size).toBe(12);
    expect(await claimTrial(t.gql, e.id)).toBeNull();
    // A grid makes its own jobs.
    expect(
      errorCode(await t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e: e.id })),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('manual jobs', () => {
  it('a random experiment accepts only jobs that give exactly its parameters; maxJobs caps a manual one', async () => {
    const random = await createExperiment(t.gql, {
      scheduler: { random: { space: SPACE.slice(0, 2), seed: 1, maxJobs: 5 } },
    });
    const wrong = await t.gql(
      `mutation($e: ID, $h: JSONObject) { createJob(input: { experimentId: $e, hyperparameters: $h }) { id } }`,
      {
        e: random.id,
        h: { lr: 0.1 },
      },
    );
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    const right = ok(
      await t.gql(
        `mutation($e: ID, $h: JSONObject) { createJob(input: { experimentId: $e, hyperparameters: $h }) { id experiment { id } } }`,
        {
          e: random.id,
          h: { lr: 0.1, dropout: 0.2 },
        },
      ),
    ).createJob;
    expect(right.experiment.id).toBe(random.id);

    const manual = await createExperiment(t.gql, { scheduler: { manual: { maxJobs: 2 } } });
    const create = () => t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e: manual.id });
    const results = await Promise.all([create(), create(), create()]);
    expect(results.filter((r) => !r.errors)).toHaveLength(2);
    expect(results.filter((r) => errorCode(r) === 'CONFLICT')).toHaveLength(1);
  });
});

describe('pause, resume, finish and maxConcurrent', () => {
  it('maxConcurrent caps running jobs: claimJob returns null at the cap', async () => {
    const e = await createExperiment(t.gql, { scheduler: { random: { space: SPACE, seed: 3 } }, maxConcurrent: 2 });
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => claimTrial(t.gql, e.id, `c${i}`)));
    const held = claims.filter((c): c is TrialClaim => c !== null);
    expect(held).toHaveLength(2);
    await complete(t.gql, held[0]!);
    expect(await claimTrial(t.gql, e.id)).not.toBeNull();
  });

  const PAUSE = `mutation($id: ID!) { pauseExperiment(input: { experimentId: $id }) { status } }`;
  const RESUME = `mutation($id: ID!) { resumeExperiment(input: { experimentId: $id }) { status } }`;
  const FINISH = `mutation($id: ID!) { finishExperiment(input: { experimentId: $id }) { status jobCounts { queued running cancelled } } }`;
  /** A manual experiment with three jobs, one of them claimed. */
  const withOneRunning = async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: {} } });
    for (let i = 0; i < 3; i++) {
      ok(await t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e: e.id }));
    }
    const running = (await claimTrial(t.gql, e.id))!;
    const heartbeat = async () =>
      ok(await t.gql(HEARTBEAT, { input: { jobId: running.job.id, leaseToken: running.leaseToken } })).heartbeat;
    return { e, heartbeat };
  };

  it('when paused, then the experiment is PAUSED, no trial is claimed, and the running job goes on', async () => {
    const { e, heartbeat } = await withOneRunning();
    expect(ok(await t.gql(PAUSE, { id: e.id })).pauseExperiment.status).toBe('PAUSED');
    expect(ok(await t.gql(experimentQuery('status'), { id: e.id })).experiment.status).toBe('PAUSED');
    expect(await claimTrial(t.gql, e.id)).toBeNull();
    expect((await heartbeat()).cancelRequested).toBe(false);
  });

  it('given a paused experiment, when paused again, then CONFLICT', async () => {
    const { e } = await withOneRunning();
    ok(await t.gql(PAUSE, { id: e.id }));
    expect(errorCode(await t.gql(PAUSE, { id: e.id }))).toBe('CONFLICT');
  });

  it('given a paused experiment, when resumed, then trials are claimed again', async () => {
    const { e } = await withOneRunning();
    ok(await t.gql(PAUSE, { id: e.id }));
    ok(await t.gql(RESUME, { id: e.id }));
    expect(await claimTrial(t.gql, e.id)).not.toBeNull();
  });

  it('when finished, then it is DONE, queued jobs are cancelled, the running one is told to stop, and no trial is claimed', async () => {
    const { e, heartbeat } = await withOneRunning();
    const done = ok(await t.gql(FINISH, { id: e.id })).finishExperiment;
    expect(done).toEqual({ status: 'DONE', jobCounts: { queued: 0, running: 0, cancelled: 3 } });
    expect((await heartbeat()).cancelRequested).toBe(true);
    expect(await claimTrial(t.gql, e.id)).toBeNull();
  });

  it('given a finished experiment, when finished again, then CONFLICT', async () => {
    const { e } = await withOneRunning();
    ok(await t.gql(FINISH, { id: e.id }));
    expect(errorCode(await t.gql(FINISH, { id: e.id }))).toBe('CONFLICT');
  });
});

describe('objective and ranking', () => {
  it("a job's objective is result[metric], else the metric's last reported value; leaderboard and best job follow the direction", async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'acc', direction: 'MAXIMIZE' },
      scheduler: { manual: {} },
    });
    const make = () => t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e: e.id });
    for (let i = 0; i < 4; i++) ok(await make());
    const [a, b, c, d] = [
      (await claimTrial(t.gql, e.id))!,
      (await claimTrial(t.gql, e.id))!,
      (await claimTrial(t.gql, e.id))!,
      (await claimTrial(t.gql, e.id))!,
    ];
    await complete(t.gql, a, { acc: 0.7 });
    // b reports, then completes without the metric in its result: the last reported value counts.
    ok(
      await t.gql(REPORT_METRICS, {
        input: {
          jobId: b.job.id,
          leaseToken: b.leaseToken,
          points: [
            { name: 'acc', value: 0.5 },
            { name: 'acc', value: 0.9 },
          ],
        },
      }),
    );
    await complete(t.gql, b, { other: 1 });
    await complete(t.gql, c, { acc: 0.8 });
    ok(await t.gql(FAIL, { input: { jobId: d.job.id, leaseToken: d.leaseToken, error: 'x' } }));
    const view = ok(
      await t.gql(
        experimentQuery(
          'bestJob { id objectiveValue } leaderboard(first: 5) { id objectiveValue } jobCounts { succeeded failed total }',
        ),
        { id: e.id },
      ),
    ).experiment;
    expect(view.leaderboard).toEqual([
      { id: b.job.id, objectiveValue: 0.9 },
      { id: c.job.id, objectiveValue: 0.8 },
      { id: a.job.id, objectiveValue: 0.7 },
    ]);
    expect(view.bestJob).toEqual({ id: b.job.id, objectiveValue: 0.9 });
    expect(view.jobCounts).toEqual({ succeeded: 3, failed: 1, total: 4 });
  });

  it('stopThreshold ends the experiment; running workers learn it on their next heartbeat', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: SPACE, seed: 5 } },
      stopThreshold: 0.1,
    });
    const first = (await claimTrial(t.gql, e.id))!;
    const second = (await claimTrial(t.gql, e.id))!;
    await complete(t.gql, first, { loss: 0.5 });
    expect(ok(await t.gql(experimentQuery('status'), { id: e.id })).experiment.status).toBe('RUNNING');
    const third = (await claimTrial(t.gql, e.id))!;
    await complete(t.gql, third, { loss: 0.05 });
    const view = ok(
      await t.gql(experimentQuery('status history { edges { node { type data } } }'), { id: e.id }),
    ).experiment;
    expect(view.status).toBe('DONE');
    expect(view.history.edges.at(-1).node).toEqual({
      type: 'ExperimentFinished',
      data: { reason: 'STOP_THRESHOLD', jobId: third.job.id },
    });
    const beat = ok(
      await t.gql(HEARTBEAT, { input: { jobId: second.job.id, leaseToken: second.leaseToken } }),
    ).heartbeat;
    expect(beat.cancelRequested).toBe(true);
    expect(await claimTrial(t.gql, e.id)).toBeNull();
  });
});

describe('early stopping', () => {
  const report = (c: TrialClaim, points: { value: number; step?: number }[]) =>
    t.gql(REPORT_METRICS, {
      input: { jobId: c.job.id, leaseToken: c.leaseToken, points: points.map((p) => ({ name: 'loss', ...p })) },
    });

  it('median: a job worse than the median of completed jobs at its step is PRUNED, and its worker then gets LEASE_LOST', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: SPACE, seed: 11 } },
      earlyStopping: { median: { startupJobs: 2, warmupSteps: 1 } },
    });
    for (const losses of [
      [1.0, 0.8, 0.6],
      [1.2, 1.0, 0.9],
    ]) {
      const c = (await claimTrial(t.gql, e.id))!;
      const r = ok(
        await report(
          c,
          losses.map((value) => ({ value })),
        ),
      );
      expect(r.reportMetrics.shouldStop).toBe(false); // startup: nothing completed yet
      await complete(t.gql, c, { loss: losses[2] });
    }
    const good = (await claimTrial(t.gql, e.id))!;
    expect(ok(await report(good, [{ value: 0.9 }, { value: 0.85 }])).reportMetrics.shouldStop).toBe(false); // 0.85 <= median 0.9
    const bad = (await claimTrial(t.gql, e.id))!;
    // Step 0 is warmup: not judged.
    expect(ok(await report(bad, [{ value: 5 }])).reportMetrics.shouldStop).toBe(false);
    const pruned = ok(
      await t.gql(REPORT_METRICS, {
        input: { jobId: bad.job.id, leaseToken: bad.leaseToken, sequence: 7, points: [{ name: 'loss', value: 4 }] },
      }),
    ).reportMetrics;
    expect(pruned.shouldStop).toBe(true);
    // A worker that retries the call that pruned it (a timeout, say) hears the same answer, not LEASE_LOST.
    const retried = ok(
      await t.gql(REPORT_METRICS, {
        input: { jobId: bad.job.id, leaseToken: bad.leaseToken, sequence: 7, points: [{ name: 'loss', value: 4 }] },
      }),
    ).reportMetrics;
    expect(retried.shouldStop).toBe(true);
    const job = ok(await t.gql(`query($id: ID!) { job(id: $id) { status } }`, { id: bad.job.id })).job;
    expect(job.status).toBe('PRUNED');
    expect(errorCode(await report(bad, [{ value: 3 }]))).toBe('LEASE_LOST');
    expect(errorCode(await t.gql(HEARTBEAT, { input: { jobId: bad.job.id, leaseToken: bad.leaseToken } }))).toBe(
      'LEASE_LOST',
    );
  });

  it('successive halving: at each rung only the top 1/reductionFactor continue; rung values are recorded as events', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: SPACE, seed: 12 } },
      earlyStopping: { successiveHalving: { minSteps: 1, reductionFactor: 2 } },
    });
    const a = (await claimTrial(t.gql, e.id))!;
    const b = (await claimTrial(t.gql, e.id))!;
    // Step 0 < minSteps: no rung yet.
    expect(ok(await report(a, [{ value: 1, step: 0 }])).reportMetrics.shouldStop).toBe(false);
    // a reaches rung 0 (step 1) first with 1: the best so far, promoted.
    expect(ok(await report(a, [{ value: 1, step: 1 }])).reportMetrics.shouldStop).toBe(false);
    // b reaches rung 0 with 2: competing [1, 2], only the best half continues.
    expect(ok(await report(b, [{ value: 2, step: 1 }])).reportMetrics.shouldStop).toBe(true);
    const history = ok(
      await t.gql(`query($id: ID!) { job(id: $id) { status history { edges { node { type data } } } } }`, {
        id: b.job.id,
      }),
    ).job;
    expect(history.status).toBe('PRUNED');
    expect(history.history.edges.map((edge: any) => edge.node.type).slice(-2)).toEqual([
      'JobRungsReached',
      'JobPruned',
    ]);
    expect(history.history.edges.at(-2).node.data).toEqual({ rungs: [{ rung: 0, value: 2 }] });
  });
});

describe('live and replayed', () => {
  it('experimentUpdated reports status changes and job progress', async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: {} } });
    const ws = wsClient(t.url);
    type Update = { experimentUpdated: { status: string; jobCounts: { total: number } } };
    const sub = collect<Update>(
      ws,
      `subscription($id: ID!) { experimentUpdated(id: $id) { status jobCounts { total } } }`,
      { id: e.id },
      (items) => items.some((i) => i.experimentUpdated.status === 'PAUSED'),
    );
    // Poke until the subscription is live, then pause.
    for (let i = 0; i < 100 && sub.items.length === 0; i++) {
      ok(await t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e: e.id }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    ok(await t.gql(`mutation($id: ID!) { pauseExperiment(input: { experimentId: $id }) { status } }`, { id: e.id }));
    const items = await sub.done;
    expect(items.at(-1)!.experimentUpdated.status).toBe('PAUSED');
    expect(items[0]!.experimentUpdated.jobCounts.total).toBeGreaterThan(0);
    await ws.dispose();
  });

  it('replaying the log from zero gives the same experiments and jobs read models', async () => {
    const rebuilt = await rebuildReadModels(t.trialog.store);
    const exercised = ['experiments', 'jobs', 'metric_points', 'job_rungs', 'projection_checkpoints'];
    for (const table of readModelTables(rebuilt)) {
      const live = dumpTable(t.trialog.readDb, table);
      if (exercised.includes(table)) expect(live.length, `${table} has rows`).toBeGreaterThan(0);
      expect(dumpTable(rebuilt, table), `table ${table}`).toEqual(live);
    }
    rebuilt.close();
  });
});

describe('claims for an unknown experiment', () => {
  it('are NOT_FOUND', async () => {
    expect(errorCode(await t.gql(CLAIM_TRIAL, { input: { workerId: 'w', experimentId: 'exp_missing' } }))).toBe(
      'NOT_FOUND',
    );
  });
});

const createJobIn = (e: string) => t.gql(`mutation($e: ID) { createJob(input: { experimentId: $e }) { id } }`, { e });

describe('finishing an experiment, whatever runs beside it', () => {
  it('a finish racing many claims leaves no job running in a DONE experiment', async () => {
    for (let round = 0; round < 5; round++) {
      const e = await createExperiment(t.gql, { scheduler: { random: { space: SPACE, seed: round } } });
      const claims = Array.from({ length: 20 }, (_, i) => claimTrial(t.gql, e.id, `r${i}`));
      const finish = t.gql(`mutation($id: ID!) { finishExperiment(input: { experimentId: $id }) { status } }`, {
        id: e.id,
      });
      await Promise.all([...claims, finish]);
      const view = ok(await t.gql(experimentQuery('status jobCounts { queued running }'), { id: e.id })).experiment;
      expect(view).toEqual({ status: 'DONE', jobCounts: { queued: 0, running: 0 } });
    }
  });

  it('a finish interrupted after its event is completed by the next finish', async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: {} } });
    ok(await createJobIn(e.id));
    // As if the server died right after recording the finish, before cancelling the jobs.
    const { experimentRepository } = await import('../../src/app/experiment-repository.js');
    const repository = experimentRepository(t.trialog.store);
    const { revision } = await repository.load(e.id);
    const { position } = await repository.append(
      e.id,
      [{ type: 'ExperimentFinished', data: { reason: 'REQUESTED', jobId: null } }],
      revision,
      {
        actor: 'test',
        correlationId: 'crash',
      },
    );
    await t.trialog.runner.waitFor(position);
    expect(ok(await t.gql(experimentQuery('jobCounts { queued }'), { id: e.id })).experiment.jobCounts.queued).toBe(1);
    const again = await t.gql(`mutation($id: ID!) { finishExperiment(input: { experimentId: $id }) { status } }`, {
      id: e.id,
    });
    expect(errorCode(again)).toBe('CONFLICT');
    expect(
      ok(await t.gql(experimentQuery('jobCounts { queued cancelled }'), { id: e.id })).experiment.jobCounts,
    ).toEqual({ queued: 0, cancelled: 1 });
  });

  it('an exhausted search whose last job is cancelled is DONE', async () => {
    const e = await createExperiment(t.gql, { scheduler: { grid: { space: [{ name: 'only', values: [1] }] } } });
    const c = (await claimTrial(t.gql, e.id))!;
    expect(await claimTrial(t.gql, e.id)).toBeNull();
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: c.job.id }));
    expect(ok(await t.gql(experimentQuery('status'), { id: e.id })).experiment.status).toBe('DONE');
  });
});

describe('claims that name no experiment', () => {
  it("a claim that names no experiment never takes an experiment's job", async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: {} } });
    const job = ok(await createJobIn(e.id)).createJob;
    ok(await t.gql(`mutation($id: ID!) { pauseExperiment(input: { experimentId: $id }) { status } }`, { id: e.id }));
    const plain = ok(await t.gql(`mutation { claimJob(input: { workerId: "plain" }) { job { id } } }`)).claimJob;
    expect(plain?.job.id).not.toBe(job.id);
    expect(ok(await t.gql(`query($id: ID!) { job(id: $id) { status } }`, { id: job.id })).job.status).toBe('QUEUED');
  });
});

describe('idempotency keys in an experiment', () => {
  const keyed = (e: string, key: string) =>
    t.gql(`mutation($e: ID, $k: String) { createJob(input: { experimentId: $e, idempotencyKey: $k }) { id } }`, {
      e,
      k: `${e}-${key}`,
    });

  it("given jobs created with idempotency keys up to the experiment's maxJobs, when one more is created, then CONFLICT", async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: { maxJobs: 2 } } });
    ok(await keyed(e.id, 'a'));
    ok(await keyed(e.id, 'b'));
    expect(errorCode(await keyed(e.id, 'c'))).toBe('CONFLICT');
    expect(ok(await t.gql(experimentQuery('jobCounts { total }'), { id: e.id })).experiment.jobCounts.total).toBe(2);
  });

  it("given an experiment at its maxJobs, when a key already used is sent again, then it returns that key's job", async () => {
    const e = await createExperiment(t.gql, { scheduler: { manual: { maxJobs: 2 } } });
    const first = ok(await keyed(e.id, 'a')).createJob.id;
    ok(await keyed(e.id, 'b'));
    expect(ok(await keyed(e.id, 'a')).createJob.id).toBe(first);
    expect(ok(await t.gql(experimentQuery('jobCounts { total }'), { id: e.id })).experiment.jobCounts.total).toBe(2);
  });
});

describe('the median rule, as Optuna applies it', () => {
  it('one batch of points is judged as the same points reported one by one (median, interval 2)', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: SPACE, seed: 21 } },
      earlyStopping: { median: { startupJobs: 1, intervalSteps: 2 } },
    });
    const done = (await claimTrial(t.gql, e.id))!;
    ok(
      await t.gql(REPORT_METRICS, {
        input: {
          jobId: done.job.id,
          leaseToken: done.leaseToken,
          points: [0, 1, 2, 3].map((step) => ({ name: 'loss', value: 1, step })),
        },
      }),
    );
    await complete(t.gql, done);
    const prunedAt = async (c: TrialClaim) =>
      ok(
        await t.gql(`query($id: ID!) { job(id: $id) { status history { edges { node { type data } } } } }`, {
          id: c.job.id,
        }),
      )
        .job.history.edges.map((edge: any) => edge.node)
        .find((n: any) => n.type === 'JobPruned')?.data.step;
    const batch = (await claimTrial(t.gql, e.id))!;
    const batched = ok(
      await t.gql(REPORT_METRICS, {
        input: {
          jobId: batch.job.id,
          leaseToken: batch.leaseToken,
          points: [0, 1, 2, 3].map((step) => ({ name: 'loss', value: 9, step })),
        },
      }),
    );
    expect(batched.reportMetrics.shouldStop).toBe(true);
    const single = (await claimTrial(t.gql, e.id))!;
    const first = ok(
      await t.gql(REPORT_METRICS, {
        input: { jobId: single.job.id, leaseToken: single.leaseToken, points: [{ name: 'loss', value: 9, step: 0 }] },
      }),
    );
    expect(first.reportMetrics.shouldStop).toBe(true);
    expect(await prunedAt(batch)).toBe(0);
    expect(await prunedAt(single)).toBe(0);
  });

  it('median startup counts completed jobs that reported no points, as Optuna counts COMPLETE trials', async () => {
    const e = await createExperiment(t.gql, {
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: SPACE, seed: 22 } },
      earlyStopping: { median: { startupJobs: 2 } },
    });
    const withPoints = (await claimTrial(t.gql, e.id))!;
    ok(
      await t.gql(REPORT_METRICS, {
        input: {
          jobId: withPoints.job.id,
          leaseToken: withPoints.leaseToken,
          points: [{ name: 'loss', value: 1, step: 0 }],
        },
      }),
    );
    await complete(t.gql, withPoints);
    await complete(t.gql, (await claimTrial(t.gql, e.id))!); // no points at all
    const bad = (await claimTrial(t.gql, e.id))!;
    const r = ok(
      await t.gql(REPORT_METRICS, {
        input: { jobId: bad.job.id, leaseToken: bad.leaseToken, points: [{ name: 'loss', value: 5, step: 0 }] },
      }),
    );
    expect(r.reportMetrics.shouldStop).toBe(true);
  });
});

describe('seeded trials across a restart', () => {
  it('a restarted server goes on with the same sequence of trials', async () => {
    const { tempDir, startTestServer: start } = await import('../helpers/server.js');
    const { join } = await import('node:path');
    const dir = tempDir();
    const dbPath = join(dir.path, 'restart.db');
    const input = { scheduler: { random: { space: SPACE, seed: 777, maxJobs: 6 } } };
    const first = await start({ dbPath });
    const e = ok(await first.gql(CREATE, { input: { name: 'restart', ...input } })).createExperiment;
    const before = [];
    for (let i = 0; i < 3; i++) before.push((await claimTrial(first.gql, e.id))!.job.hyperparameters);
    await first.stop();
    const second = await start({ dbPath });
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await claimTrial(second.gql, e.id))!.job.hyperparameters);
    await second.stop();
    dir.remove();
    const reference = await createExperiment(t.gql, input);
    const expected = [];
    for (let i = 0; i < 6; i++) expected.push((await claimTrial(t.gql, reference.id))!.job.hyperparameters);
    expect([...before, ...after]).toEqual(expected);
  });
});
