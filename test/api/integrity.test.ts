/**
 * Writes are kept as acknowledged, or refused with a code: never changed or
 * dropped on the way. Over real HTTP, on the real SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LOG, REPORT_METRICS, claim, createJob } from '../helpers/jobs.js';
import { createdAndClaimed, rawJobEvent } from '../helpers/raw-events.js';
import { errorCode, ok, startTestServer, wsClient, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

let labels = 0;
async function runningJob(): Promise<{ jobId: string; leaseToken: string }> {
  const label = `integrity-${++labels}`;
  const job = await createJob(t.gql, { labels: [label] });
  const c = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
  return { jobId: job.id, leaseToken: c.leaseToken };
}

const POINTS = `query($id: ID!) { job(id: $id) { metrics { name points { step value } } } }`;
const LINES = `query($id: ID!) { job(id: $id) { logs { edges { node { text } } } } }`;

describe('numbered worker calls that go backwards', () => {
  it('given reportMetrics 7 answered, when reportMetrics 6 arrives under the same lease, then CONFLICT and the log is unchanged', async () => {
    const lease = await runningJob();
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, sequence: 7, points: [{ name: 'loss', value: 7 }] } }));
    const head = await t.trialog.store.headPosition();
    const backwards = await t.gql(REPORT_METRICS, {
      input: { ...lease, sequence: 6, points: [{ name: 'loss', value: 6 }] },
    });
    expect(errorCode(backwards)).toBe('CONFLICT');
    expect(backwards.errors![0]!.message).toMatch(/went backwards/);
    expect(await t.trialog.store.headPosition()).toBe(head);
    expect(ok(await t.gql(POINTS, { id: lease.jobId })).job.metrics[0].points).toEqual([{ step: 0, value: 7 }]);
  });

  it('given appendLog 7 answered, when appendLog 6 arrives under the same lease, then CONFLICT and the log is unchanged', async () => {
    const lease = await runningJob();
    const first = ok(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['seven'] } })).appendLog;
    expect(errorCode(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 6, lines: ['six'] } }))).toBe('CONFLICT');
    // The retry of 7 still answers as 7 did.
    expect(ok(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['seven'] } })).appendLog).toEqual(
      first,
    );
    expect(ok(await t.gql(LINES, { id: lease.jobId })).job.logs.edges.map((e: any) => e.node.text)).toEqual(['seven']);
  });

  it('given appendLog 7 answered, when appendLog 7 arrives with other lines, then CONFLICT, not the first answer', async () => {
    const lease = await runningJob();
    ok(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['seven'] } }));
    expect(errorCode(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['other'] } }))).toBe('CONFLICT');
  });
});

describe('strings that are not well-formed Unicode (lone surrogates) are refused where they enter', () => {
  const CREATE = `mutation($i: CreateJobInput!) { createJob(input: $i) { id hyperparameters } }`;

  it('given idempotency keys "k\\ud800", "k\\udfff" and "k\\ufffd", then the first two are BAD_USER_INPUT and the legal one gets its own job', async () => {
    const head = await t.trialog.store.headPosition();
    for (const key of ['k\ud800', 'k\udfff']) {
      expect(
        errorCode(
          await t.gql(CREATE, { i: { idempotencyKey: key, hyperparameters: { lr: 1 }, labels: ['kept-aside'] } }),
        ),
        JSON.stringify(key),
      ).toBe('BAD_USER_INPUT');
    }
    expect(await t.trialog.store.headPosition()).toBe(head);
    const legal = ok(
      await t.gql(CREATE, { i: { idempotencyKey: 'k\ufffd', hyperparameters: { lr: 3 }, labels: ['kept-aside'] } }),
    ).createJob;
    expect(legal.hyperparameters).toEqual({ lr: 3 });
    const other = ok(
      await t.gql(CREATE, { i: { idempotencyKey: 'k', hyperparameters: { lr: 4 }, labels: ['kept-aside'] } }),
    ).createJob;
    expect(other.id).not.toBe(legal.id);
  });

  it('given experiment names that differ only in lone surrogates, then each is BAD_USER_INPUT', async () => {
    const CREATE_EXPERIMENT = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id name } }`;
    for (const name of ['exp\ud800', 'exp\udbff', 'exp\udc00x']) {
      expect(
        errorCode(await t.gql(CREATE_EXPERIMENT, { i: { name, scheduler: { manual: {} } } })),
        JSON.stringify(name),
      ).toBe('BAD_USER_INPUT');
    }
  });

  it('given a log line "a\\ud800b", then BAD_USER_INPUT and nothing is stored; a line with a real pair is kept exactly', async () => {
    const lease = await runningJob();
    expect(errorCode(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['a\ud800b'] } }))).toBe('BAD_USER_INPUT');
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['a\ud83d\ude00b'] } }));
    expect(ok(await t.gql(LINES, { id: lease.jobId })).job.logs.edges.map((e: any) => e.node.text)).toEqual([
      'a\ud83d\ude00b',
    ]);
  });

  it('refuses them everywhere inside JSON values, keys included, and in labels, ids, reasons and worker ids', async () => {
    const lease = await runningJob();
    const refused: [string, string, Record<string, unknown>][] = [
      [CREATE, 'hyperparameters', { i: { hyperparameters: { deep: [{ x: ['\udfff'] }] } } }],
      [CREATE, 'a JSON key', { i: { params: { ['key\ud800']: 1 } } }],
      [CREATE, 'a label', { i: { labels: ['gpu\ud800'] } }],
      [
        `mutation($i: ClaimJobInput!) { claimJob(input: $i) { leaseToken } }`,
        'a worker id',
        { i: { workerId: 'w\ud800' } },
      ],
      [
        `mutation($i: CompleteJobInput!) { completeJob(input: $i) { id } }`,
        'a result',
        { i: { ...lease, result: { note: '\ud800' } } },
      ],
      [
        `mutation($i: FailJobInput!) { failJob(input: $i) { id } }`,
        'a reason',
        { i: { ...lease, error: 'oops\udc00' } },
      ],
      [
        `mutation($i: CancelJobInput!) { cancelJob(input: $i) { id } }`,
        'an id',
        { i: { jobId: `${lease.jobId}\ud800` } },
      ],
      [
        `mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName } }`,
        'training data',
        {
          i: {
            entityId: 'e',
            entityVersion: 1,
            states: [{ stateName: 's', interactionId: 'i', trainingData: ['\ud800'] }],
          },
        },
      ],
    ];
    const head = await t.trialog.store.headPosition();
    for (const [query, what, variables] of refused)
      expect(errorCode(await t.gql(query, variables)), what).toBe('BAD_USER_INPUT');
    expect(await t.trialog.store.headPosition()).toBe(head);
  });

  it('refuses them in GraphQL string literals too, raw or escaped', async () => {
    const escaped = await t.gql(`mutation { createJob(input: { idempotencyKey: "k\\ud800" }) { id } }`);
    expect(errorCode(escaped)).toBe('BAD_USER_INPUT');
    const raw = await t.gql(`mutation { createJob(input: { labels: ["x\ud800"] }) { id } }`);
    expect(errorCode(raw)).toBe('BAD_USER_INPUT');
    const block = await t.gql(`mutation { createJob(input: { params: { a: """b\ud800""" } }) { id } }`);
    expect(errorCode(block)).toBe('BAD_USER_INPUT');
  });

  it('refuses them in the variables of a subscription over WebSocket, with the code, for that operation', async () => {
    const client = wsClient(t.url);
    try {
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: `subscription($id: ID!) { jobLogs(jobId: $id) { text } }`, variables: { id: 'job\ud800' } },
          {
            next: (value) => resolve(value.errors),
            error: resolve,
            complete: () => resolve('completed without an error'),
          },
        );
      });
      expect(JSON.stringify(error)).toContain('BAD_USER_INPUT');
    } finally {
      await client.dispose();
    }
  });
});

describe("metric steps stay within GraphQL's Int", () => {
  const MAX = 2 ** 31 - 1;

  it('given a point at step 2^31 - 1, when one comes with no step, then BAD_USER_INPUT and every read still answers', async () => {
    const lease = await runningJob();
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 1, step: MAX }] } }));
    expect(errorCode(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 2 }] } }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(ok(await t.gql(POINTS, { id: lease.jobId })).job.metrics[0].points).toEqual([{ step: MAX, value: 1 }]);
  });

  it('given an old log holding a point at step 2^31, when anyone reads metrics or lists jobs with their points, then every read answers', async () => {
    const jobId = 'job_step_out_of_range';
    const point = (step: number, value: number) => ({ name: 'loss', step, value, timestamp: new Date().toISOString() });
    const { position } = await t.trialog.store.appendToStream(`job-${jobId}`, [
      ...createdAndClaimed(jobId),
      rawJobEvent('JobMetricsReported', { points: [point(MAX, 1)] }),
      rawJobEvent('JobMetricsReported', { points: [point(2 ** 31, 2)] }),
    ]);
    await t.trialog.runner.waitFor(position);
    const metrics = await t.gql(
      `query($id: ID!) { job(id: $id) { metrics { name count lastStep last { step value } points { step value } } } }`,
      { id: jobId },
    );
    expect(metrics.errors).toBeUndefined();
    expect(metrics.data.job.metrics[0].points).toContainEqual({ step: MAX, value: 1 });
    const listing = await t.gql(`{ jobs(first: 1000) { edges { node { id metrics { points { step } } } } } }`);
    expect(listing.errors).toBeUndefined();
    expect(listing.data.jobs.edges.length).toBeGreaterThan(1);
  });
});

describe('a worker-chosen lease token claims one job, ever', () => {
  const token = () => `token-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}-abcdefghijklmnop`;

  it('given a token whose job has since finished, when the claim is resent, then it answers with that job and takes no other', async () => {
    const label = `token-${++labels}`;
    await createJob(t.gql, { labels: [label] });
    await createJob(t.gql, { labels: [label] });
    const input = { workerId: 'w', labels: [label], leaseToken: token() };
    const first = (await claim(t.gql, input))!;
    ok(
      await t.gql(`mutation($i: CompleteJobInput!) { completeJob(input: $i) { id } }`, {
        i: { jobId: first.job.id, leaseToken: input.leaseToken },
      }),
    );
    const resent = (await claim(t.gql, input))!;
    expect(resent.job.id).toBe(first.job.id);
    const running = ok(
      await t.gql(`{ jobs(first: 1000, filter: { status: [RUNNING] }) { edges { node { labels } } } }`),
    );
    expect(running.jobs.edges.filter((e: any) => e.node.labels.includes(label))).toEqual([]);
  });

  it('given nothing to claim, when a claim with a token finds nothing, then it writes nothing, and the token may claim later', async () => {
    const label = `token-${++labels}`;
    const input = { workerId: 'w', labels: [label], leaseToken: token() };
    const head = await t.trialog.store.headPosition();
    expect(await claim(t.gql, input)).toBeNull();
    expect(await t.trialog.store.headPosition()).toBe(head);
    const job = await createJob(t.gql, { labels: [label] });
    expect((await claim(t.gql, input))!.job.id).toBe(job.id);
  });
});
