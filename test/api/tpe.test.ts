/**
 * TPE searches over real HTTP: settings refused with BAD_USER_INPUT, trials
 * handed out by claims with the decision on record in each JobCreated, the
 * search finished at its limit, and better results than RANDOM's for the
 * same slots and seed on Branin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLETE, REPORT_METRICS } from '../helpers/jobs.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { errorCode, ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id scheduler maxJobs config } }`;
const CLAIM = `mutation($e: ID, $w: String!) { claimJob(input: { workerId: $w, experimentId: $e }) {
  leaseToken job { id hyperparameters trialIndex decision history(first: 1) { edges { node { data } } } } } }`;
const objective = { metric: 'loss', direction: 'MINIMIZE' };
const braninSpace = [
  { name: 'x1', distribution: { uniform: { low: -5, high: 10 } } },
  { name: 'x2', distribution: { uniform: { low: 0, high: 15 } } },
];
/** Branin: minimum 0.397887 at (−π, 12.275), (π, 2.275) and (9.42478, 2.475). */
function branin({ x1, x2 }: { x1: number; x2: number }): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}

describe('TPE settings are validated', () => {
  const tpe = (overrides: Record<string, unknown> = {}) => ({ space: braninSpace, ...overrides });
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['more trials than the TPE limit', tpe({ maxJobs: 10_001 }), /maxJobs is at most 10000 for TPE/],
    ['no candidates', tpe({ candidates: 0 }), /candidates/],
    ['no startup trials', tpe({ startupTrials: 0 }), /startupTrials/],
    [
      'a step on a log-uniform range',
      tpe({ space: [{ name: 'lr', distribution: { logUniform: { low: 1e-4, high: 1, step: 0.1 } } }] }),
      /a log-uniform range takes no step/,
    ],
    [
      'a log-integer range from 0',
      tpe({ space: [{ name: 'n', distribution: { intLogUniform: { low: 0, high: 64 } } }] }),
      /must be positive \(low >= 1\)/,
    ],
    [
      'a log-integer range with a step',
      tpe({ space: [{ name: 'n', distribution: { intLogUniform: { low: 1, high: 64, step: 2 } } }] }),
      /intLogUniform/,
    ],
    [
      'a choice longer than 1,024 characters as JSON',
      tpe({ space: [{ name: 'c', distribution: { choice: { values: ['short', 'x'.repeat(1023)] } } }] }),
      /a TPE choice is at most 1024 characters as JSON/,
    ],
    [
      'a step of 0',
      tpe({ space: [{ name: 'd', distribution: { uniform: { low: 0, high: 1, step: 0 } } }] }),
      /step must be > 0/,
    ],
  ];
  for (const [what, settings, message] of cases) {
    it(`${what}: BAD_USER_INPUT`, async () => {
      const response = await t.gql(CREATE, { input: { name: `bad-${what}`, objective, scheduler: { tpe: settings } } });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(response.errors![0])).toMatch(message);
    });
  }

  it('needs an objective', async () => {
    const response = await t.gql(CREATE, { input: { name: 'tpe-no-objective', scheduler: { tpe: tpe() } } });
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toMatch(/TPE needs an objective/);
  });

  it('fills in the defaults and a seed, and says TPE', async () => {
    const created = ok(
      await t.gql(CREATE, { input: { name: 'tpe-defaults', objective, scheduler: { tpe: tpe() } } }),
    ).createExperiment;
    expect(created).toMatchObject({ scheduler: 'TPE', maxJobs: 10_000 });
    expect(created.config.scheduler.tpe).toMatchObject({
      startupTrials: 10,
      candidates: 24,
      multivariate: false,
      constantLiar: true,
      seed: expect.any(Number),
      version: 'optuna-4.6',
    });
  });

  it('refuses a version Trialog does not follow', async () => {
    const response = await t.gql(CREATE, {
      input: { name: 'tpe-version', objective, scheduler: { tpe: tpe({ version: 'OPTUNA_3_1' }) } },
    });
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
  });
});

describe('a TPE search at a later Optuna version', () => {
  it('follows it and records it with every decision, startup and TPE alike', async () => {
    const space = [...braninSpace, { name: 'units', distribution: { intLogUniform: { low: 1, high: 1024 } } }];
    const run = await runSearch('tpe-4.9', { tpe: { space, seed: 5, maxJobs: 14, version: 'OPTUNA_4_9' } });
    expect(run.status).toBe('DONE');
    expect(run.trials.map((t) => t.decision.version)).toEqual(Array(14).fill('optuna-4.9'));
    expect(run.trials.slice(10).map((t) => t.decision.mode)).toEqual(['TPE', 'TPE', 'TPE', 'TPE']);
    for (const { hyperparameters } of run.trials) {
      const units = (hyperparameters as unknown as { units: number }).units;
      expect(Number.isInteger(units) && units >= 1 && units <= 1024, `units ${units}`).toBe(true);
    }
  }, 60_000);
});

/** Runs a search to its end with one worker: claim, report the objective, complete. Returns the trials in order. */
async function runSearch(name: string, scheduler: Record<string, unknown>) {
  const experiment = ok(await t.gql(CREATE, { input: { name, objective, scheduler } })).createExperiment;
  const trials: {
    hyperparameters: { x1: number; x2: number };
    decision: any;
    fields: { trialIndex: number; decision: unknown };
    loss: number;
  }[] = [];
  for (;;) {
    const claimed = ok(await t.gql(CLAIM, { e: experiment.id, w: 'w1' })).claimJob;
    if (!claimed) break;
    const lease = { jobId: claimed.job.id, leaseToken: claimed.leaseToken };
    const loss = branin(claimed.job.hyperparameters);
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: loss, step: 0 }] } }));
    ok(await t.gql(COMPLETE, { input: { ...lease, result: { loss } } }));
    trials.push({
      hyperparameters: claimed.job.hyperparameters,
      decision: claimed.job.history.edges[0].node.data.decision,
      fields: { trialIndex: claimed.job.trialIndex, decision: claimed.job.decision },
      loss,
    });
  }
  const status = ok(await t.gql(`query($id: ID!) { experiment(id: $id) { status } }`, { id: experiment.id })).experiment
    .status;
  return { trials, status };
}

describe('a TPE search on Branin, one worker', () => {
  const budget = 40;
  let tpeRun: Awaited<ReturnType<typeof runSearch>>;
  let randomRun: Awaited<ReturnType<typeof runSearch>>;
  beforeAll(async () => {
    tpeRun = await runSearch('tpe-branin', { tpe: { space: braninSpace, seed: 3, maxJobs: budget } });
    randomRun = await runSearch('random-branin', { random: { space: braninSpace, seed: 3, maxJobs: budget } });
  }, 120_000);

  it('starts with the trials RANDOM draws with the same seed, each recorded as STARTUP', () => {
    expect(tpeRun.trials.slice(0, 10).map((t) => t.hyperparameters)).toEqual(
      randomRun.trials.slice(0, 10).map((t) => t.hyperparameters),
    );
    tpeRun.trials
      .slice(0, 10)
      .forEach((trial, i) =>
        expect(trial.decision).toEqual({ sampler: 'TPE', version: 'optuna-4.6', mode: 'STARTUP', finished: i }),
      );
  });

  it('then proposes by TPE, recording the trials weighed and the good ones among them', () => {
    tpeRun.trials.slice(10).forEach((trial, i) => {
      const finished = 10 + i;
      expect(trial.decision).toMatchObject({ mode: 'TPE', finished, considered: `0-${finished - 1}`, running: [] });
      expect(trial.decision.below).toHaveLength(Math.ceil(finished / 10));
      // The good trials are the best by the objective.
      const losses = tpeRun.trials.slice(0, finished).map((t) => t.loss);
      const worstGood = Math.max(...trial.decision.below.map((slot: number) => losses[slot]!));
      expect(losses.filter((l) => l < worstGood).length).toBeLessThan(trial.decision.below.length);
    });
  });

  it("shows each job's slot and decision as fields of the job, as its JobCreated records them", async () => {
    tpeRun.trials.forEach((trial, slot) =>
      expect(trial.fields).toEqual({ trialIndex: slot, decision: trial.decision }),
    );
    const byHand = ok(await t.gql(`mutation { createJob(input: {}) { trialIndex decision } }`)).createJob;
    expect(byHand).toEqual({ trialIndex: null, decision: null });
  });

  it('finishes at its limit, its own proposals better than what RANDOM drew for the same slots', () => {
    expect(tpeRun.status).toBe('DONE');
    expect(tpeRun.trials).toHaveLength(budget);
    // The first ten are the same draws; from there on TPE's proposals should concentrate where Branin is low.
    const median = (run: typeof tpeRun) => {
      const losses = run.trials
        .slice(10)
        .map((t) => t.loss)
        .sort((a, b) => a - b);
      return losses[losses.length >> 1]!;
    };
    expect(median(tpeRun)).toBeLessThan(median(randomRun) / 2);
  });

  it('replaying the log from zero gives the same read models', async () => {
    const rebuilt = await rebuildReadModels(t.trialog.store);
    for (const table of readModelTables(rebuilt)) {
      expect(dumpTable(rebuilt, table), `table ${table}`).toEqual(dumpTable(t.trialog.readDb, table));
    }
    rebuilt.close();
  });
});
