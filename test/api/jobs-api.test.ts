/**
 * The job API over real HTTP against a real server and store: the lifecycle,
 * read-your-writes, claiming rules, leases, validation and the audit queries.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPEND_LOG,
  CANCEL,
  COMPLETE,
  FAIL,
  HEARTBEAT,
  REPORT_METRICS,
  RETRY,
  claim,
  createJob,
} from '../helpers/jobs.js';
import { errorCode, ok, sleep, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

/** Each test works in its own label space, so tests do not claim each other's jobs. */
let labelSeq = 0;
const freshLabel = () => `t${++labelSeq}-${Date.now()}`;

describe('a job through its whole life', () => {
  /** A job claimed by worker-a, in a label space of its own. */
  const running = async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { hyperparameters: { lr: 0.01 }, params: { epochs: 3 }, labels: [label] });
    const claimed = await claim(t.gql, { workerId: 'worker-a', labels: [label], leaseSeconds: 120 });
    return { job, claimed, lease: { jobId: job.id, leaseToken: claimed!.leaseToken } };
  };

  it('when a job is created, then the answer shows it QUEUED', async () => {
    expect((await createJob(t.gql, { labels: [freshLabel()] })).status).toBe('QUEUED');
  });

  it('when a worker claims it, then the answer shows it RUNNING under that worker, on its first attempt', async () => {
    const { job, claimed } = await running();
    expect(claimed).toMatchObject({ job: { id: job.id, status: 'RUNNING', attempts: 1, workerId: 'worker-a' } });
  });

  it('when its worker heartbeats, then the answer extends the lease and does not ask it to stop', async () => {
    const { lease } = await running();
    const beat = ok(await t.gql(HEARTBEAT, { input: { ...lease, progress: 0.5 } })).heartbeat;
    expect(beat.cancelRequested).toBe(false);
    expect(Date.parse(beat.leaseExpiresAt)).toBeGreaterThan(Date.now());
  });

  it('when its worker reports metrics, then the answer holds them, steps numbered per series where none is given', async () => {
    const { lease } = await running();
    const reported = ok(
      await t.gql(REPORT_METRICS, {
        input: {
          ...lease,
          points: [
            { name: 'loss', value: 0.9 },
            { name: 'loss', value: 0.7 },
            { name: 'acc', value: 0.5, step: 10 },
          ],
        },
      }),
    ).reportMetrics;
    expect(reported.shouldStop).toBe(false);
    expect(reported.job.metrics).toEqual([
      { name: 'acc', points: [{ step: 10, value: 0.5 }], last: { step: 10, value: 0.5 } },
      {
        name: 'loss',
        points: [
          { step: 0, value: 0.9 },
          { step: 1, value: 0.7 },
        ],
        last: { step: 1, value: 0.7 },
      },
    ]);
  });

  it("when its worker reports one metric, then the answer shows it one step past the series' last", async () => {
    const { lease } = await running();
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 0.9, step: 1 }] } }));
    const single = ok(
      await t.gql(
        `mutation($input: ReportMetricInput!) { reportMetric(input: $input) { job { metrics(names: ["loss"]) { last { step value } } } } }`,
        { input: { ...lease, name: 'loss', value: 0.6 } },
      ),
    );
    expect(single.reportMetric.job.metrics).toEqual([{ last: { step: 2, value: 0.6 } }]);
  });

  it('when its worker appends log lines, then each answer gives their offsets, continuing across streams', async () => {
    const { lease } = await running();
    expect(ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['epoch 1', 'epoch 2'] } })).appendLog).toEqual({
      firstOffset: 0,
      nextOffset: 2,
    });
    expect(
      ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['warning'], stream: 'STDERR' } })).appendLog,
    ).toEqual({ firstOffset: 2, nextOffset: 3 });
  });

  it('when its worker completes it, then the answer shows it SUCCEEDED with its result, artifacts, full progress and end time', async () => {
    const { lease } = await running();
    const sha = 'a'.repeat(64);
    const done = ok(
      await t.gql(COMPLETE, {
        input: {
          ...lease,
          result: { acc: 0.93 },
          artifacts: [{ name: 'model', uri: 'file:///tmp/model.pt', sha256: sha }],
        },
      }),
    ).completeJob;
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      result: { acc: 0.93 },
      progress: 1,
      artifacts: [{ name: 'model', uri: 'file:///tmp/model.pt', sha256: sha }],
    });
    expect(done.finishedAt).toBeTruthy();
  });

  it("given a finished job's log in two streams, then it reads in pages by offset, both streams in one order", async () => {
    const { job, lease } = await running();
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['epoch 1', 'epoch 2'] } }));
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['warning'], stream: 'STDERR' } }));
    ok(await t.gql(COMPLETE, { input: { ...lease, result: null, artifacts: [] } }));
    const read = ok(
      await t.gql(
        `query($id: ID!) { job(id: $id) { logs(first: 2) { edges { cursor node { offset stream text } } pageInfo { hasNextPage endCursor } } } }`,
        { id: job.id },
      ),
    ).job;
    expect(read.logs.edges.map((e: any) => e.node.text)).toEqual(['epoch 1', 'epoch 2']);
    expect(read.logs.pageInfo).toEqual({ hasNextPage: true, endCursor: '1' });
    const rest = ok(
      await t.gql(
        `query($id: ID!, $after: String) { job(id: $id) { logs(after: $after) { edges { node { offset stream text } } } } }`,
        { id: job.id, after: '1' },
      ),
    ).job;
    expect(rest.logs.edges).toEqual([{ node: { offset: 2, stream: 'STDERR', text: 'warning' } }]);
  });

  it('given a job through its whole life, then its revision counts every event its calls recorded', async () => {
    const { job, lease } = await running();
    ok(await t.gql(HEARTBEAT, { input: { ...lease, progress: 0.5 } }));
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 0.9 }] } }));
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['epoch 1'] } }));
    ok(await t.gql(COMPLETE, { input: { ...lease, result: null, artifacts: [] } }));
    const read = ok(await t.gql(`query($id: ID!) { job(id: $id) { status revision } }`, { id: job.id })).job;
    // created, claimed, heartbeat, metrics reported, log appended, completed
    expect(read).toEqual({ status: 'SUCCEEDED', revision: 5 });
  });

  it('a completed job refuses further worker calls with LEASE_LOST and cancel with CONFLICT', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label] });
    const c = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    ok(await t.gql(COMPLETE, { input: { jobId: job.id, leaseToken: c.leaseToken } }));
    expect(errorCode(await t.gql(HEARTBEAT, { input: { jobId: job.id, leaseToken: c.leaseToken } }))).toBe(
      'LEASE_LOST',
    );
    const cancelled = await t.gql(CANCEL, { input: { jobId: job.id } });
    expect(errorCode(cancelled)).toBe('CONFLICT');
    expect(cancelled.errors![0]!.message).toMatch(/SUCCEEDED/);
  });
});

describe('creating jobs', () => {
  it('a retried create with the same idempotency key returns the first job', async () => {
    const key = `key-${freshLabel()}`;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => createJob(t.gql, { idempotencyKey: key, labels: [key] })),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const again = await createJob(t.gql, { idempotencyKey: key, labels: [key] });
    expect(again.id).toBe(results[0]!.id);
  });

  it('an unknown experiment is NOT_FOUND', async () => {
    expect(
      errorCode(await t.gql(`mutation { createJob(input: { experimentId: "exp_nope", labels: ["x"] }) { id } }`)),
    ).toBe('NOT_FOUND');
  });

  it('applies the defaults of the contract', async () => {
    const job = await createJob(t.gql, {});
    expect(job).toMatchObject({ status: 'QUEUED', priority: 0, maxAttempts: 3, attempts: 0, labels: [] });
    // Unlabelled jobs suit every worker: take it out of the other tests' way.
    ok(await t.gql(CANCEL, { input: { jobId: job.id } }));
  });
});

describe('claiming', () => {
  it('hands out the highest priority first, then the oldest', async () => {
    const label = freshLabel();
    const low = await createJob(t.gql, { labels: [label], priority: 1 });
    const highOld = await createJob(t.gql, { labels: [label], priority: 5 });
    const highNew = await createJob(t.gql, { labels: [label], priority: 5 });
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await claim(t.gql, { workerId: 'w', labels: [label] }))!.job.id);
    expect(order).toEqual([highOld.id, highNew.id, low.id]);
    expect(await claim(t.gql, { workerId: 'w', labels: [label] })).toBeNull();
  });

  it("hands a job only to a worker whose labels include all of the job's", async () => {
    const a = freshLabel();
    const b = freshLabel();
    const job = await createJob(t.gql, { labels: [a, b] });
    expect(await claim(t.gql, { workerId: 'w', labels: [a] })).toBeNull();
    expect((await claim(t.gql, { workerId: 'w', labels: [b, a, 'extra'] }))!.job.id).toBe(job.id);
  });

  it('filters by algorithm', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label], algorithmId: 'TextClassifier', algorithmVersion: 2 });
    expect(await claim(t.gql, { workerId: 'w', labels: [label], algorithmIds: ['Other'] })).toBeNull();
    expect((await claim(t.gql, { workerId: 'w', labels: [label], algorithmIds: ['TextClassifier'] }))!.job.id).toBe(
      job.id,
    );
  });

  it('a lease that expires is handed out again and counts an attempt; when attempts run out the job fails', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label], maxAttempts: 2 });
    const first = (await claim(t.gql, { workerId: 'w1', labels: [label], leaseSeconds: 1 }))!;
    expect(await claim(t.gql, { workerId: 'w2', labels: [label] })).toBeNull();
    await sleep(1100);
    const second = (await claim(t.gql, { workerId: 'w2', labels: [label], leaseSeconds: 1 }))!;
    expect(second.job).toMatchObject({ id: job.id, status: 'RUNNING', attempts: 2, workerId: 'w2' });

    // The first worker's token is now stale: refused, and nothing changes.
    const head = await t.trialog.store.headPosition();
    for (const [mutation, input] of [
      [HEARTBEAT, {}],
      [REPORT_METRICS, { points: [{ name: 'loss', value: 1 }] }],
      [APPEND_LOG, { lines: ['late'] }],
      [COMPLETE, {}],
      [FAIL, { error: 'late' }],
    ] as const) {
      const response = await t.gql(mutation, { input: { jobId: job.id, leaseToken: first.leaseToken, ...input } });
      expect(errorCode(response)).toBe('LEASE_LOST');
    }
    expect(await t.trialog.store.headPosition()).toBe(head);

    await sleep(1100);
    expect(await claim(t.gql, { workerId: 'w3', labels: [label] })).toBeNull();
    const failed = ok(await t.gql(`query($id: ID!) { job(id: $id) { status attempts error } }`, { id: job.id })).job;
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(failed.error).toMatch(/lease of worker w2 expired on attempt 2 of 2/);
  });

  it('a failure with retry requeues the job while attempts remain', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label], maxAttempts: 2 });
    const first = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    const requeued = ok(
      await t.gql(FAIL, { input: { jobId: job.id, leaseToken: first.leaseToken, error: 'oom', retry: true } }),
    );
    expect(requeued.failJob).toMatchObject({ status: 'QUEUED', error: 'oom', attempts: 1 });
    const second = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    expect(second.job.attempts).toBe(2);
    const failed = ok(
      await t.gql(FAIL, { input: { jobId: job.id, leaseToken: second.leaseToken, error: 'oom', retry: true } }),
    );
    expect(failed.failJob).toMatchObject({ status: 'FAILED', attempts: 2 });
    const retried = ok(await t.gql(RETRY, { input: { jobId: job.id } })).retryJob;
    expect(retried).toMatchObject({ status: 'QUEUED', maxAttempts: 3 });
  });
});

describe('cancelling', () => {
  it("a running job's worker learns of the cancel on its next heartbeat; other calls get LEASE_LOST", async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label] });
    const c = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    const cancelled = ok(await t.gql(CANCEL, { input: { jobId: job.id, reason: 'budget' } })).cancelJob;
    expect(cancelled.status).toBe('CANCELLED');
    const beat = ok(await t.gql(HEARTBEAT, { input: { jobId: job.id, leaseToken: c.leaseToken } })).heartbeat;
    expect(beat.cancelRequested).toBe(true);
    expect(
      errorCode(await t.gql(APPEND_LOG, { input: { jobId: job.id, leaseToken: c.leaseToken, lines: ['x'] } })),
    ).toBe('LEASE_LOST');
  });
});

describe('bad input gets a clear error with a code and writes nothing', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['oversized hyperparameters', 'createJob', { hyperparameters: { blob: 'x'.repeat(70_000) } }, 'TOO_LARGE'],
    ['too many labels', 'createJob', { labels: Array.from({ length: 33 }, (_, i) => `l${i}`) }, 'TOO_LARGE'],
    ['maxAttempts 0', 'createJob', { maxAttempts: 0 }, 'BAD_USER_INPUT'],
    ['an empty idempotency key', 'createJob', { idempotencyKey: '' }, 'BAD_USER_INPUT'],
  ];
  for (const [what, , input, code] of cases) {
    it(`createJob with ${what}: ${code}`, async () => {
      const head = await t.trialog.store.headPosition();
      const response = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input });
      expect(errorCode(response)).toBe(code);
      expect(response.errors![0]!.message.length).toBeGreaterThan(5);
      expect(await t.trialog.store.headPosition()).toBe(head);
    });
  }

  it('worker calls: bad metric names, non-finite values, too many lines, oversize lines, a bad lease duration', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label] });
    const c = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    const head = await t.trialog.store.headPosition();
    const attempts: [string, Record<string, unknown>, string][] = [
      [REPORT_METRICS, { ...lease, points: [{ name: 'bad name', value: 1 }] }, 'BAD_USER_INPUT'],
      [REPORT_METRICS, { ...lease, points: [] }, 'BAD_USER_INPUT'],
      [REPORT_METRICS, { ...lease, points: [{ name: 'ok', value: 1, step: -1 }] }, 'BAD_USER_INPUT'],
      [APPEND_LOG, { ...lease, lines: Array.from({ length: 10_001 }, () => 'x') }, 'TOO_LARGE'],
      [APPEND_LOG, { ...lease, lines: ['y'.repeat(70 * 1024)] }, 'TOO_LARGE'],
      [HEARTBEAT, { ...lease, leaseSeconds: 0 }, 'BAD_USER_INPUT'],
      [HEARTBEAT, { ...lease, progress: 1.5 }, 'BAD_USER_INPUT'],
    ];
    for (const [mutation, input, code] of attempts) {
      expect(errorCode(await t.gql(mutation, { input }))).toBe(code);
    }
    // JSON cannot carry NaN or Infinity; a literal in the query is a GraphQL error.
    expect(
      errorCode(
        await t.gql(
          `mutation { reportMetric(input: { jobId: "${job.id}", leaseToken: "${c.leaseToken}", name: "x", value: Infinity }) { shouldStop } }`,
        ),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(await t.trialog.store.headPosition()).toBe(head);
  });

  it('an unknown job is NOT_FOUND, a page over the limit is BAD_USER_INPUT, a bad query is BAD_USER_INPUT', async () => {
    expect(errorCode(await t.gql(CANCEL, { input: { jobId: 'job_missing' } }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(`{ jobs(first: 1001) { totalCount } }`))).toBe('BAD_USER_INPUT');
    // Far past it, graphql-armor's cost limit answers first.
    expect(errorCode(await t.gql(`{ jobs(first: 100000) { totalCount } }`))).toBe('TOO_LARGE');
    expect(errorCode(await t.gql(`{ nope }`))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(`{ jobs(first: `))).toBe('BAD_USER_INPUT');
  });
});

describe('reading', () => {
  it('jobs: filters, keyset pages and a total count', async () => {
    const label = freshLabel();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createJob(t.gql, { labels: [label] })).id);
    const c = (await claim(t.gql, { workerId: 'reader', labels: [label] }))!;
    const QUERY = `query($filter: JobFilter, $after: String) {
      jobs(filter: $filter, first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = ok(await t.gql(QUERY, { filter: { label }, after })).jobs;
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const running = ok(await t.gql(QUERY, { filter: { label, status: ['RUNNING'] } })).jobs;
    expect(running.edges.map((e: any) => e.node.id)).toEqual([c.job.id]);
    const byWorker = ok(await t.gql(QUERY, { filter: { workerId: 'reader', label } })).jobs;
    expect(byWorker.totalCount).toBe(1);
  });

  it('node(id) finds a job', async () => {
    const job = await createJob(t.gql, { labels: [freshLabel()] });
    const data = ok(
      await t.gql(`query($id: ID!) { node(id: $id) { __typename id ... on Job { status } } }`, { id: job.id }),
    );
    expect(data.node).toEqual({ __typename: 'Job', id: job.id, status: 'QUEUED' });
  });

  it('jobAt rebuilds the job at each revision of its stream and at a time', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label] });
    const c = (await claim(t.gql, { workerId: 'w', labels: [label] }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 1 }] } }));
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['hello'] } }));
    ok(await t.gql(COMPLETE, { input: { ...lease, result: { acc: 1 } } }));
    const AT = `query($id: ID!, $revision: Int, $at: DateTime) { jobAt(id: $id, revision: $revision, at: $at) {
      status revision attempts result metrics { name } logs { edges { node { text } } } history { edges { node { type } } } } }`;
    const expected = [
      { status: 'QUEUED', metrics: 0, logs: 0 },
      { status: 'RUNNING', metrics: 0, logs: 0 },
      { status: 'RUNNING', metrics: 1, logs: 0 },
      { status: 'RUNNING', metrics: 1, logs: 1 },
      { status: 'SUCCEEDED', metrics: 1, logs: 1 },
    ];
    for (const [revision, want] of expected.entries()) {
      const past = ok(await t.gql(AT, { id: job.id, revision })).jobAt;
      expect(past.status).toBe(want.status);
      expect(past.revision).toBe(revision);
      expect(past.metrics).toHaveLength(want.metrics);
      expect(past.logs.edges).toHaveLength(want.logs);
      expect(past.history.edges).toHaveLength(revision + 1);
    }
    const events = ok(
      await t.gql(`query($id: ID!) { job(id: $id) { history { edges { node { timestamp } } } } }`, { id: job.id }),
    ).job.history.edges;
    const atClaim = ok(await t.gql(AT, { id: job.id, at: events[1].node.timestamp })).jobAt;
    expect(atClaim.revision).toBeGreaterThanOrEqual(1);
    expect(ok(await t.gql(AT, { id: job.id, at: '2000-01-01T00:00:00Z' })).jobAt).toBeNull();
    expect(ok(await t.gql(AT, { id: 'job_missing', revision: 0 })).jobAt).toBeNull();
  });

  it('events: the audit log pages by position and filters by category, type and stream', async () => {
    const job = await createJob(t.gql, { labels: [freshLabel()] });
    const byStream = ok(
      await t.gql(
        `query($f: EventFilter) { events(filter: $f) { edges { cursor node { type streamId revision position metadata data } } } }`,
        {
          f: { streamId: `job-${job.id}` },
        },
      ),
    ).events.edges;
    expect(byStream).toHaveLength(1);
    expect(byStream[0].node).toMatchObject({ type: 'JobCreated', revision: 0, data: { jobId: job.id } });
    expect(byStream[0].node.metadata).toMatchObject({ actor: 'anonymous', schemaVersion: 2 });
    expect(byStream[0].cursor).toBe(byStream[0].node.position);

    const page1 = ok(
      await t.gql(
        `{ events(first: 3, filter: { category: "job", types: ["JobCreated"] }) { edges { cursor node { type } } pageInfo { hasNextPage endCursor } } }`,
      ),
    ).events;
    expect(page1.edges).toHaveLength(3);
    expect(page1.edges.every((e: any) => e.node.type === 'JobCreated')).toBe(true);
    const page2 = ok(
      await t.gql(
        `query($after: String) { events(first: 3, after: $after, filter: { types: ["JobCreated"] }) { edges { cursor } } }`,
        { after: page1.pageInfo.endCursor },
      ),
    ).events;
    expect(page2.edges[0].cursor > page1.pageInfo.endCursor).toBe(true);
    expect(errorCode(await t.gql(`{ events(after: "not-a-position") { edges { cursor } } }`))).toBe('BAD_USER_INPUT');
  });

  it('the correlation id of a request is recorded on its events', async () => {
    const response = await t.gql(`mutation { createJob(input: { labels: ["corr"] }) { id } }`, undefined, {
      'x-correlation-id': 'trace-42',
    });
    const id = ok(response).createJob.id;
    const events = ok(
      await t.gql(`query($s: String) { events(filter: { streamId: $s }) { edges { node { metadata } } } }`, {
        s: `job-${id}`,
      }),
    ).events.edges;
    expect(events[0].node.metadata.correlationId).toBe('trace-42');
  });
});

describe('GraphQL over HTTP conformance (graphql-http audits)', () => {
  for (const audit of serverAudits({ url: () => t.url, fetchFn: fetch })) {
    it(audit.name, async () => {
      const result = await audit.fn();
      if (result.status === 'error') throw new Error(result.reason);
      // Warnings are recommendations (SHOULD) rather than requirements (MUST).
    });
  }
});

describe('worker retries (sequence)', () => {
  it('a retried reportMetrics or appendLog with the same sequence writes nothing and answers as the first call', async () => {
    const label = freshLabel();
    const job = await createJob(t.gql, { labels: [label], maxAttempts: 3 });
    const c = (await claim(t.gql, { workerId: 'w', labels: [label], leaseSeconds: 1 }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    const report = (sequence: number, value: number) =>
      t.gql(REPORT_METRICS, { input: { ...lease, sequence, points: [{ name: 'loss', value }] } });
    const append = (sequence: number, lines: string[]) => t.gql(APPEND_LOG, { input: { ...lease, sequence, lines } });

    const first = ok(await report(1, 0.5)).reportMetrics;
    const head = await t.trialog.store.headPosition();
    expect(ok(await report(1, 0.5)).reportMetrics).toEqual(first);
    // The same number with other content is another call, not a retry: refused, never dropped silently.
    expect(errorCode(await report(1, 0.9))).toBe('CONFLICT');
    expect(await t.trialog.store.headPosition()).toBe(head);
    expect(ok(await report(2, 0.4)).reportMetrics.job.metrics[0].points).toHaveLength(2);

    const appended = ok(await append(1, ['a', 'b'])).appendLog;
    expect(ok(await append(1, ['a', 'b'])).appendLog).toEqual(appended);
    expect(ok(await append(2, ['c'])).appendLog).toEqual({ firstOffset: 2, nextOffset: 3 });
    const lines = ok(
      await t.gql(`query($id: ID!) { job(id: $id) { logs { edges { node { text } } } } }`, { id: job.id }),
    ).job.logs.edges;
    expect(lines.map((e: any) => e.node.text)).toEqual(['a', 'b', 'c']);

    // A new lease numbers its calls afresh; the old lease's numbers mean nothing to it.
    await sleep(1100);
    const again = (await claim(t.gql, { workerId: 'w2', labels: [label] }))!;
    const fresh = ok(
      await t.gql(REPORT_METRICS, {
        input: { jobId: job.id, leaseToken: again.leaseToken, sequence: 1, points: [{ name: 'loss', value: 0.3 }] },
      }),
    );
    expect(fresh.reportMetrics.job.metrics[0].points).toHaveLength(3);
    // The stale lease's retry is refused, as any call with a stale token is.
    expect(errorCode(await report(2, 0.4))).toBe('LEASE_LOST');
  });
});
