/**
 * Population-based training on the toy problem of Jaderberg et al. (2017):
 * maximise Q(θ) = 1.2 − (θ0² + θ1²), with workers that ascend the surrogate
 * Q̂(θ|h) = 1.2 − (h0·θ0² + h1·θ1²) from their parent's θ, over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLETE, REPORT_METRICS } from '../helpers/jobs.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { errorCode, ok, sleep, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id scheduler maxJobs config } }`;
const pbt = (overrides: Record<string, unknown> = {}) => ({
  populationSize: 4,
  initial: [
    { name: 'h0', distribution: { uniform: { low: 0, high: 1 } } },
    { name: 'h1', distribution: { uniform: { low: 0, high: 1 } } },
  ],
  exploit: { truncation: { fraction: 0.25 } },
  explore: [
    { parameter: 'h0', strategy: { perturb: {} } },
    { parameter: 'h1', strategy: { perturb: { factors: [0.8, 1.2] } } },
  ],
  maxGenerations: 15,
  seed: 7,
  ...overrides,
});
const objective = { metric: 'Q', direction: 'MAXIMIZE' };

describe('PBT settings are validated', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a population of 1', pbt({ populationSize: 1 }), /populationSize must be at least 2/],
    [
      'a truncation fraction above 0.5',
      pbt({ exploit: { truncation: { fraction: 0.6 } } }),
      /fraction must be in \(0, 0.5\]/,
    ],
    ['a truncation fraction of 0', pbt({ exploit: { truncation: { fraction: 0 } } }), /fraction must be in \(0, 0.5\]/],
    [
      'a tournament larger than the population',
      pbt({ exploit: { tournament: { size: 5 } } }),
      /tournament cannot be larger/,
    ],
    [
      'an unknown parameter to explore',
      pbt({ explore: [{ parameter: 'h9', strategy: { perturb: {} } }] }),
      /unknown parameter h9/,
    ],
    [
      'no factors to perturb by',
      pbt({ explore: [{ parameter: 'h0', strategy: { perturb: { factors: [] } } }] }),
      /at least one factor/,
    ],
    [
      'a resample probability above 1',
      pbt({
        explore: [{ parameter: 'h0', strategy: { resample: { probability: 2, distribution: { constant: 1 } } } }],
      }),
      /probability must be in \[0, 1\]/,
    ],
  ];
  for (const [what, settings, message] of cases) {
    it(`${what}: BAD_USER_INPUT`, async () => {
      const response = await t.gql(CREATE, { input: { name: `bad-${what}`, objective, scheduler: { pbt: settings } } });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0]!.message).toMatch(message);
    });
  }

  it('needs an objective', async () => {
    const response = await t.gql(CREATE, { input: { name: 'pbt-no-objective', scheduler: { pbt: pbt() } } });
    expect(response.errors![0]!.message).toMatch(/needs an objective/);
  });
});

describe("the paper's toy problem", () => {
  it('the population climbs to Q >= 1.19, each generation starting from its parent', async () => {
    const experiment = ok(
      await t.gql(CREATE, { input: { name: 'pbt-toy', objective, scheduler: { pbt: pbt() } } }),
    ).createExperiment;
    expect(experiment).toMatchObject({ scheduler: 'PBT', maxJobs: 60 });

    const CLAIM = `mutation($e: ID, $w: String!) { claimJob(input: { workerId: $w, experimentId: $e }) {
      leaseToken job { id generation hyperparameters params parent { id } } } }`;
    const status = async () =>
      ok(await t.gql(`query($id: ID!) { experiment(id: $id) { status } }`, { id: experiment.id })).experiment.status;

    const worker = async (name: string) => {
      for (;;) {
        const c = ok(await t.gql(CLAIM, { e: experiment.id, w: name })).claimJob;
        if (!c) {
          // Every member's next generation waits on a running job: look again shortly.
          if ((await status()) === 'DONE') return;
          await sleep(10);
          continue;
        }
        const { h0, h1 } = c.job.hyperparameters as { h0: number; h1: number };
        const checkpoint = (c.job.params.checkpointFrom ?? []) as { name: string; metadata: { theta: number[] } }[];
        let [a, b] = (checkpoint.find((x) => x.name === 'theta')?.metadata.theta ?? [0.9, 0.9]) as [number, number];
        const lease = { jobId: c.job.id, leaseToken: c.leaseToken };
        const points = [];
        for (let step = 0; step < 4; step++) {
          // Gradient ascent on the surrogate: dQ̂/dθi = −2·hi·θi.
          a = a - 0.1 * 2 * h0 * a;
          b = b - 0.1 * 2 * h1 * b;
          points.push({ name: 'Q', value: 1.2 - (a * a + b * b), step });
        }
        ok(await t.gql(REPORT_METRICS, { input: { ...lease, points } }));
        ok(
          await t.gql(COMPLETE, {
            input: {
              ...lease,
              result: { Q: 1.2 - (a * a + b * b) },
              artifacts: [{ name: 'theta', uri: `memory://${c.job.id}`, metadata: { theta: [a, b] } }],
            },
          }),
        );
      }
    };
    await Promise.all(['w1', 'w2', 'w3'].map(worker));

    const view = ok(
      await t.gql(
        `query($id: ID!) { experiment(id: $id) { status jobCounts { succeeded total } bestJob { objectiveValue generation }
        jobs(first: 100) { edges { node { id generation parent { id generation history(first: 1) { edges { node { data } } } } params history(first: 1) { edges { node { data } } } } } } } }`,
        {
          id: experiment.id,
        },
      ),
    ).experiment;
    expect(view.status).toBe('DONE');
    expect(view.jobCounts).toEqual({ succeeded: 60, total: 60 });
    expect(view.bestJob.objectiveValue).toBeGreaterThanOrEqual(1.19);

    const jobs = view.jobs.edges.map((e: any) => e.node);
    for (const job of jobs) {
      const decision = job.history.edges[0].node.data.decision;
      if (job.generation === 0) {
        expect(job.parent).toBeNull();
        continue;
      }
      // Every later job starts from its parent's weights, and the decision is on record. A member that
      // kept its own line continues from its previous generation; one that exploited continues from the
      // member it copied, which may be ahead of it (members advance asynchronously).
      expect(job.params.checkpointFrom[0].name).toBe('theta');
      expect(decision).toMatchObject({ generation: job.generation });
      if (decision.exploitedFrom === null) expect(job.parent.generation).toBe(job.generation - 1);
      else expect(job.parent.history.edges[0].node.data.trialIndex % 4).toBe(decision.exploitedFrom);
    }
    // A later generation's creation names, as its cause, the event that ended the member's previous job.
    const log = ok(
      await t.gql(
        `{ events(first: 1000, filter: { category: "job" }) { edges { node { id type streamId metadata data } } } }`,
      ),
    ).events.edges.map((e: any) => e.node);
    const later = log.find((e: any) => e.type === 'JobCreated' && e.data.generation === 3);
    const cause = log.find((e: any) => e.id === later.metadata.causationId);
    expect(cause.type).toBe('JobCompleted');
    // Some members copied better ones (exploit) and perturbed what they copied (explore).
    const exploited = jobs.filter((j: any) => j.history.edges[0].node.data.decision?.exploitedFrom != null);
    expect(exploited.length).toBeGreaterThan(0);
    expect(
      exploited.every((j: any) => typeof j.history.edges[0].node.data.decision.explored.h0.perturb === 'number'),
    ).toBe(true);
  });

  it('replaying the log from zero gives the same read models', async () => {
    const rebuilt = await rebuildReadModels(t.trialog.store);
    for (const table of readModelTables(rebuilt)) {
      expect(dumpTable(rebuilt, table), `table ${table}`).toEqual(dumpTable(t.trialog.readDb, table));
    }
    rebuilt.close();
  });
});
