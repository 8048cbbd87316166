/**
 * Why a job was pruned, over the real server: `Job.pruning` carries what the
 * early-stopping rule decided on (recorded in JobPruned when it decided), a
 * pruned job keeps no point past its pruning step however the points were
 * sent, `jobAt` shows what each revision had, and a log pruned before the
 * numbers were recorded reads with them null.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { COMPLETE, REPORT_METRICS } from '../helpers/jobs.js';
import { createdAndClaimed, rawJobEvent } from '../helpers/raw-events.js';
import { ok, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

let seq = 0;
const SPACE = [{ name: 'lr', distribution: { uniform: { low: 0, high: 1 } } }];
const PRUNING = 'pruning { rule step value threshold comparedTrials rung }';

async function createExperiment(earlyStopping: Record<string, unknown>): Promise<string> {
  const input = {
    name: `pruning-${++seq}-${Date.now()}`,
    objective: { metric: 'loss', direction: 'MINIMIZE' },
    scheduler: { random: { space: SPACE, seed: 5 } },
    earlyStopping,
  };
  return ok(
    await t.gql(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`, { input }),
  ).createExperiment.id;
}

interface Trial {
  jobId: string;
  leaseToken: string;
}

async function claimTrial(experimentId: string): Promise<Trial> {
  const claimed = ok(
    await t.gql(`mutation($input: ClaimJobInput!) { claimJob(input: $input) { leaseToken job { id } } }`, {
      input: { workerId: 'w', experimentId },
    }),
  ).claimJob;
  return { jobId: claimed.job.id, leaseToken: claimed.leaseToken };
}

async function report(trial: Trial, points: { name?: string; step: number; value: number }[]) {
  const input = {
    jobId: trial.jobId,
    leaseToken: trial.leaseToken,
    points: points.map((p) => ({ name: 'loss', ...p })),
  };
  return ok(await t.gql(REPORT_METRICS, { input })).reportMetrics as { shouldStop: boolean };
}

async function completedTrial(experimentId: string, losses: number[]): Promise<void> {
  const trial = await claimTrial(experimentId);
  await report(
    trial,
    losses.map((value, step) => ({ step, value })),
  );
  ok(await t.gql(COMPLETE, { input: { jobId: trial.jobId, leaseToken: trial.leaseToken, result: {} } }));
}

const JOB = `query($id: ID!) { job(id: $id) {
  status objectiveValue revision ${PRUNING}
  metrics { name lastStep last { step value } points { step value } }
} }`;

describe('a job pruned by the median rule', () => {
  // The completed trials' losses by step; at step 2 they are 0.6, 0.9, 0.5 and 0.7.
  const completed = [
    [1.0, 0.8, 0.6, 0.5],
    [1.2, 1.0, 0.9, 0.8],
    [0.9, 0.7, 0.5, 0.4],
    [1.1, 0.9, 0.7, 0.6],
  ];
  // Their median: halfway between 0.6 and 0.7, from 4 trials.
  const medianAtStep2 = 0.65;

  it('given completed trials, when one batch carries the point that prunes and later points, then the job keeps its series up to that step and shows the median it was held to', async () => {
    const experimentId = await createExperiment({ median: { startupJobs: 4, warmupSteps: 2 } });
    for (const losses of completed) await completedTrial(experimentId, losses);
    const trial = await claimTrial(experimentId);

    // Step 2's 1.5 is worse than the median (warmup ends at step 2); steps 3 and 4 come in the same call, with another metric.
    const answer = await report(trial, [
      { step: 0, value: 2 },
      { step: 1, value: 1.8 },
      { step: 2, value: 1.5 },
      { name: 'acc', step: 2, value: 0.3 },
      { step: 3, value: 0.01 },
      { name: 'acc', step: 3, value: 0.99 },
      { step: 4, value: 0.001 },
    ]);

    expect(answer.shouldStop).toBe(true);
    const job = ok(await t.gql(JOB, { id: trial.jobId })).job;
    expect(job.status).toBe('PRUNED');
    expect(job.pruning).toMatchObject({ rule: 'median', step: 2, value: 1.5, comparedTrials: 4, rung: null });
    expect(job.pruning.threshold).toBeCloseTo(medianAtStep2, 12);
    const byName = Object.fromEntries(job.metrics.map((series: any) => [series.name, series]));
    expect(byName.loss.points).toEqual([
      { step: 0, value: 2 },
      { step: 1, value: 1.8 },
      { step: 2, value: 1.5 },
    ]);
    expect(byName.loss.lastStep).toBe(2);
    expect(byName.acc.points).toEqual([{ step: 2, value: 0.3 }]);
    expect(job.objectiveValue).toBe(1.5);
  });

  it('given a pruned job, when read at its revisions, then only the revision of the pruning has it', async () => {
    const experimentId = await createExperiment({ median: { startupJobs: 4, warmupSteps: 2 } });
    for (const losses of completed) await completedTrial(experimentId, losses);
    const trial = await claimTrial(experimentId);
    await report(trial, [
      { step: 0, value: 2 },
      { step: 1, value: 1.8 },
    ]);
    await report(trial, [
      { step: 2, value: 1.5 },
      { step: 3, value: 1.4 },
    ]);
    const { revision, pruning } = ok(await t.gql(JOB, { id: trial.jobId })).job;

    const at = async (r: number) =>
      ok(
        await t.gql(`query($id: ID!, $r: Int) { jobAt(id: $id, revision: $r) { status ${PRUNING} } }`, {
          id: trial.jobId,
          r,
        }),
      ).jobAt;
    expect(await at(revision)).toEqual({ status: 'PRUNED', pruning });
    expect(pruning).toMatchObject({ step: 2, comparedTrials: 4 });
    expect(pruning.threshold).toBeCloseTo(medianAtStep2, 12);
    // The report before it (created, claimed, first report, then this report's metrics at revision - 1).
    expect(await at(revision - 1)).toEqual({ status: 'RUNNING', pruning: null });
  });

  it('given a pruned job, when it is retried, then it no longer shows a pruning', async () => {
    const experimentId = await createExperiment({ median: { startupJobs: 4, warmupSteps: 2 } });
    for (const losses of completed) await completedTrial(experimentId, losses);
    const trial = await claimTrial(experimentId);
    expect((await report(trial, [{ step: 2, value: 9 }])).shouldStop).toBe(true);
    const retried = ok(
      await t.gql(`mutation($id: ID!) { retryJob(input: { jobId: $id }) { status ${PRUNING} } }`, { id: trial.jobId }),
    ).retryJob;
    expect(retried).toEqual({ status: 'QUEUED', pruning: null });
  });
});

describe('a job pruned by successive halving', () => {
  it("given trials recorded at a rung, when a job's value there is below the cut, then it shows the rung, its cutoff and how many values it came from", async () => {
    const experimentId = await createExperiment({ successiveHalving: { minSteps: 1, reductionFactor: 2 } });
    const others = [await claimTrial(experimentId), await claimTrial(experimentId), await claimTrial(experimentId)];
    // Each reaches rung 0 (step 1) in turn: 0.2 and then 0.1 are the best so far and go on; 0.3 is cut by 0.1.
    expect((await report(others[0]!, [{ step: 1, value: 0.2 }])).shouldStop).toBe(false);
    expect((await report(others[1]!, [{ step: 1, value: 0.1 }])).shouldStop).toBe(false);
    expect((await report(others[2]!, [{ step: 1, value: 0.3 }])).shouldStop).toBe(true);
    // With 0.25, rung 0 holds [0.2, 0.1, 0.3, 0.25]: the best half goes on, and 0.2, its worse member, is the cutoff.
    const trial = await claimTrial(experimentId);
    expect(
      (
        await report(trial, [
          { step: 0, value: 1 },
          { step: 1, value: 0.25 },
          { step: 2, value: 0.05 },
        ])
      ).shouldStop,
    ).toBe(true);
    const job = ok(await t.gql(JOB, { id: trial.jobId })).job;
    expect(job.pruning).toEqual({
      rule: 'successiveHalving',
      step: 1,
      value: 0.25,
      threshold: 0.2,
      comparedTrials: 4,
      rung: 0,
    });
    expect(job.metrics[0].points).toEqual([
      { step: 0, value: 1 },
      { step: 1, value: 0.25 },
    ]);
    expect(job.objectiveValue).toBe(0.25);
  });
});

describe('a log pruned before the numbers were recorded', () => {
  it('given a version 1 JobPruned, when the job is read, then its pruning has the rule, step and value, and no threshold or trial count', async () => {
    const dir = tempDir();
    const dbPath = join(dir.path, 'old.db');
    const store = new SqliteEventStore(dbPath);
    const pruned = rawJobEvent('JobPruned', { rule: 'median', step: 7, value: 3.5 });
    await store.appendToStream('job-job_old_pruned', [
      ...createdAndClaimed('job_old_pruned'),
      { ...pruned, metadata: { ...pruned.metadata, schemaVersion: 1 } },
    ]);
    await store.close();
    const old = await startTestServer({ dbPath });
    try {
      const job = ok(await old.gql(`{ job(id: "job_old_pruned") { status ${PRUNING} } }`)).job;
      expect(job).toEqual({
        status: 'PRUNED',
        pruning: { rule: 'median', step: 7, value: 3.5, threshold: null, comparedTrials: null, rung: null },
      });
    } finally {
      await old.stop();
      dir.remove();
    }
  });
});
