/**
 * Writes are kept as acknowledged, or refused with a code: never changed or
 * dropped on the way. Over real HTTP, on the real SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LOG, REPORT_METRICS, claim, createJob } from './helpers/jobs.js';
import { errorCode, ok, startTestServer, type TestServer } from './helpers/server.js';

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
    const backwards = await t.gql(REPORT_METRICS, { input: { ...lease, sequence: 6, points: [{ name: 'loss', value: 6 }] } });
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
    expect(ok(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['seven'] } })).appendLog).toEqual(first);
    expect(ok(await t.gql(LINES, { id: lease.jobId })).job.logs.edges.map((e: any) => e.node.text)).toEqual(['seven']);
  });

  it('given appendLog 7 answered, when appendLog 7 arrives with other lines, then CONFLICT, not the first answer', async () => {
    const lease = await runningJob();
    ok(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['seven'] } }));
    expect(errorCode(await t.gql(APPEND_LOG, { input: { ...lease, sequence: 7, lines: ['other'] } }))).toBe('CONFLICT');
  });
});
