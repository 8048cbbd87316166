/**
 * Hyperband over real HTTP, with TPE: trials spread over brackets by hash,
 * pruned by their bracket's successive halving (the decision names the
 * bracket), and TPE weighing only the new trial's bracket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bracketBudgets, bracketCount, bracketOf } from '../../src/domain/experiment/hyperband.js';
import { COMPLETE, REPORT_METRICS } from '../helpers/jobs.js';
import { errorCode, ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id config } }`;
const CLAIM = `mutation($e: ID, $w: String!) { claimJob(input: { workerId: $w, experimentId: $e }) {
  leaseToken job { id hyperparameters history(first: 1) { edges { node { data } } } } } }`;
const JOBS = `query($id: ID!) { experiment(id: $id) { status jobs(first: 100) { edges { node {
  status pruning { rule step rung bracket threshold } history(first: 1) { edges { node { data } } } } } } } }`;

describe('Hyperband settings', () => {
  it("fills in Optuna's defaults and refuses a maxSteps below minSteps", async () => {
    const input = (hyperband: Record<string, unknown>) => ({
      name: `hb-settings-${JSON.stringify(hyperband)}`,
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { space: [{ name: 'x', distribution: { uniform: { low: 0, high: 1 } } }] } },
      earlyStopping: { hyperband },
    });
    const created = ok(await t.gql(CREATE, { input: input({}) })).createExperiment;
    expect(created.config.earlyStopping.hyperband).toEqual({ minSteps: 1, reductionFactor: 3, maxSteps: null });
    const refused = await t.gql(CREATE, { input: input({ minSteps: 4, maxSteps: 2 }) });
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toMatch(/maxSteps must be at least minSteps/);
  });
});

describe('a TPE search with Hyperband', () => {
  it("prunes by bracket, records the bracket, and proposes from the new trial's bracket alone", async () => {
    const name = 'hb-tpe';
    const space = [{ name: 'x', distribution: { uniform: { low: 0, high: 1 } } }];
    const { id } = ok(
      await t.gql(CREATE, {
        input: {
          name,
          objective: { metric: 'loss', direction: 'MINIMIZE' },
          scheduler: { tpe: { space, seed: 2, maxJobs: 40, startupTrials: 4 } },
          earlyStopping: { hyperband: { minSteps: 1, reductionFactor: 3, maxSteps: 9 } },
        },
      }),
    ).createExperiment;
    const budgets = bracketBudgets(bracketCount(1, 9, 3), 3);
    expect(budgets).toEqual([9, 5, 3]);

    for (;;) {
      const claimed = ok(await t.gql(CLAIM, { e: id, w: 'w1' })).claimJob;
      if (!claimed) break;
      const lease = { jobId: claimed.job.id, leaseToken: claimed.leaseToken };
      const x = claimed.job.hyperparameters.x as number;
      let pruned = false;
      for (let step = 0; step < 9 && !pruned; step++) {
        const loss = (x - 0.3) ** 2 + 1 / (step + 1);
        const report = ok(
          await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: loss, step }] } }),
        );
        pruned = report.reportMetrics.shouldStop;
      }
      if (!pruned) ok(await t.gql(COMPLETE, { input: { ...lease, result: {} } }));
    }

    const jobs = ok(await t.gql(JOBS, { id })).experiment.jobs.edges.map((e: any) => e.node);
    expect(jobs).toHaveLength(40);
    const prunings = jobs
      .filter((j: any) => j.status === 'PRUNED')
      .map((j: any) => ({
        ...j.pruning,
        slot: j.history.edges[0].node.data.trialIndex,
      }));
    expect(prunings.length).toBeGreaterThan(0);
    for (const p of prunings) {
      expect(p.rule).toBe('hyperband');
      // The bracket is the hash's, and bracket b's first rung is at step 3^b.
      expect(p.bracket).toBe(bracketOf(name, p.slot, budgets));
      expect(p.step).toBeGreaterThanOrEqual(3 ** (p.bracket + p.rung));
    }
    // TPE proposals name their bracket and weigh only that bracket's trials.
    const decisions = jobs.map((j: any) => j.history.edges[0].node.data);
    const proposed = decisions.filter((d: any) => d.decision.mode === 'TPE');
    expect(proposed.length).toBeGreaterThan(0);
    for (const d of proposed) {
      expect(d.decision.bracket).toBe(bracketOf(name, d.trialIndex, budgets));
      for (const slot of d.decision.below) expect(bracketOf(name, slot, budgets)).toBe(d.decision.bracket);
    }
  });
});

describe('Hyperband with maxSteps "auto"', () => {
  it('is fixed by the first trial to complete: a longer one completing later does not move the brackets', async () => {
    const name = 'hb-auto-fixed';
    const { id } = ok(
      await t.gql(CREATE, {
        input: {
          name,
          objective: { metric: 'loss', direction: 'MINIMIZE' },
          scheduler: {
            tpe: { space: [{ name: 'x', distribution: { uniform: { low: 0, high: 1 } } }], seed: 4, startupTrials: 2 },
          },
          earlyStopping: { hyperband: { minSteps: 1, reductionFactor: 3 } },
        },
      }),
    ).createExperiment;
    const run = async (steps: number, loss: number) => {
      const claimed = ok(await t.gql(CLAIM, { e: id, w: 'w1' })).claimJob;
      const lease = { jobId: claimed.job.id, leaseToken: claimed.leaseToken };
      const points = Array.from({ length: steps }, (_, step) => ({ name: 'loss', value: loss, step }));
      const reported = ok(await t.gql(REPORT_METRICS, { input: { ...lease, points } })).reportMetrics;
      expect(reported.shouldStop).toBe(false);
      ok(await t.gql(COMPLETE, { input: { ...lease, result: { loss } } }));
    };
    await run(9, 1); // slot 0 completes first at step 8: max_resource 9, three brackets
    await run(81, 0.1); // slot 1, better at every step, completes at step 80

    const fixed = bracketBudgets(bracketCount(1, 9, 3), 3);
    const moved = bracketBudgets(bracketCount(1, 81, 3), 3);
    const slots = Array.from({ length: 12 }, (_, i) => i + 2);
    // Were "auto" recomputed from the longest completed trial, some of these slots would change bracket.
    expect(slots.some((slot) => bracketOf(name, slot, fixed) !== bracketOf(name, slot, moved))).toBe(true);
    for (const slot of slots) {
      const claimed = ok(await t.gql(CLAIM, { e: id, w: `w${slot}` })).claimJob;
      expect(claimed.job.history.edges[0].node.data.decision.bracket, `slot ${slot}`).toBe(
        bracketOf(name, slot, fixed),
      );
    }
  });
});
