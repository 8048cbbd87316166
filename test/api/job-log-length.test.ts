/**
 * The dashboard's log tail opens at the end of a long log: it reads `logLength` and pages the
 * last lines with `logs(after: logLength - n - 1)`, then follows `jobLogs` from there. These
 * specify what that relies on, against the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LOG, claim, createJob } from '../helpers/jobs.js';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('a job log read from its end', () => {
  it('given 7 appended lines, logLength is 7 and the last 3 are the page after offset 3', async () => {
    const job = await createJob(t.gql, { labels: ['log-length'] });
    const claimed = await claim(t.gql, { workerId: 'w', labels: ['log-length'] });
    const lease = { jobId: job.id, leaseToken: claimed!.leaseToken };
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['a', 'b', 'c', 'd'] } }));
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['e', 'f', 'g'], stream: 'STDERR' } }));

    const data = ok(await t.gql(`query($id: ID!) { job(id: $id) { logLength revision } }`, { id: job.id })).job as {
      logLength: number;
      revision: number;
    };
    expect(data.logLength).toBe(7);

    const tail = ok(
      await t.gql(
        `query($id: ID!, $after: String) { job(id: $id) { logs(first: 3, after: $after) { edges { node { offset text stream } } } } }`,
        {
          id: job.id,
          after: String(data.logLength - 3 - 1),
        },
      ),
    ).job.logs.edges.map((edge: { node: unknown }) => edge.node);
    expect(tail).toEqual([
      { offset: 4, text: 'e', stream: 'STDERR' },
      { offset: 5, text: 'f', stream: 'STDERR' },
      { offset: 6, text: 'g', stream: 'STDERR' },
    ]);

    // The revision before the second append: the job then had 4 lines.
    const past = ok(
      await t.gql(`query($id: ID!, $rev: Int) { jobAt(id: $id, revision: $rev) { logLength } }`, {
        id: job.id,
        rev: data.revision - 1,
      }),
    ).jobAt;
    expect(past.logLength).toBe(4);
  });

  it('given a job with no log, logLength is 0', async () => {
    const job = await createJob(t.gql, { labels: ['log-length-empty'] });
    const data = ok(await t.gql(`query($id: ID!) { job(id: $id) { logLength } }`, { id: job.id })).job;
    expect(data.logLength).toBe(0);
  });
});
