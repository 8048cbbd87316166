/**
 * `experimentJobsChanged` over the real server and graphql-ws: one change per
 * event of the experiment's jobs, nothing from other jobs, resumable from a
 * position with nothing missed or repeated, for every role, and a change costs
 * the same reads however many jobs the experiment has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { APPEND_LOG, CANCEL, COMPLETE, HEARTBEAT, REPORT_METRICS, claim, createJob } from '../helpers/jobs.js';
import { serverProcessesPerTest } from '../helpers/process.js';
import { collect, gqlClient, ok, startTestServer, wsClient, type Gql, type TestServer } from '../helpers/server.js';

const CHANGES = `subscription($id: ID!, $after: String) {
  experimentJobsChanged(experimentId: $id, after: $after) { position type job { id status } }
}`;
type Change = { position: string; type: string; job: { id: string; status: string } };
type Message = { experimentJobsChanged: Change };

let t: TestServer;
let ws: Client;

beforeAll(async () => {
  t = await startTestServer();
  ws = wsClient(t.url);
});
afterAll(async () => {
  await ws.dispose();
  await t.stop();
});

let names = 0;
async function createExperiment(gql: Gql): Promise<string> {
  const name = `live-${++names}-${Math.random().toString(36).slice(2)}`;
  return ok(
    await gql(
      `mutation($name: String!) { createExperiment(input: { name: $name, scheduler: { manual: {} } }) { id } }`,
      { name },
    ),
  ).createExperiment.id;
}

/** Every event of these jobs, in log order: what the subscription must deliver. */
async function historyOf(gql: Gql, jobIds: string[]): Promise<{ position: string; type: string; jobId: string }[]> {
  const events = [];
  for (const id of jobIds) {
    const { job } = ok(
      await gql(`query($id: ID!) { job(id: $id) { history(first: 1000) { edges { node { position type } } } } }`, {
        id,
      }),
    );
    events.push(
      ...job.history.edges.map((e: { node: { position: string; type: string } }) => ({ ...e.node, jobId: id })),
    );
  }
  return events.sort((a, b) => (a.position < b.position ? -1 : 1));
}

/** A job of the experiment through its whole life: created, claimed, heartbeat, metrics, log, completed. */
async function runTrial(gql: Gql, experimentId: string): Promise<string> {
  const { id } = await createJob(gql, { experimentId, hyperparameters: { lr: 0.1 } });
  const lease = { jobId: id, leaseToken: (await claim(gql, { workerId: 'w', experimentId }))!.leaseToken };
  ok(await gql(HEARTBEAT, { input: { ...lease, progress: 0.5 } }));
  ok(
    await gql(REPORT_METRICS, {
      input: {
        ...lease,
        points: [
          { name: 'loss', value: 0.5 },
          { name: 'loss', value: 0.25 },
        ],
      },
    }),
  );
  ok(await gql(APPEND_LOG, { input: { ...lease, lines: ['epoch 1'] } }));
  ok(await gql(COMPLETE, { input: { ...lease, result: { loss: 0.25 } } }));
  return id;
}

/** Busy work on another experiment's job and on a job of none, between the watched experiment's changes. */
async function noiseElsewhere(gql: Gql, otherExperimentId: string): Promise<void> {
  const other = await createJob(gql, { experimentId: otherExperimentId });
  await createJob(gql, { labels: ['no-experiment'] });
  ok(await gql(CANCEL, { input: { jobId: other.id } }));
}

const changesOf = (items: Message[]) => items.map((i) => i.experimentJobsChanged);
const head = async () => (await t.trialog.store.headPosition())!;

async function untilSubscribers(count: number): Promise<void> {
  for (let i = 0; i < 250 && t.trialog.feed.subscriberCount < count; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.trialog.feed.subscriberCount).toBe(count);
}

describe('experimentJobsChanged', () => {
  it("given two experiments, then a subscriber on one gets a change per event of its jobs and none of the other's", async () => {
    const watched = await createExperiment(t.gql);
    const other = await createExperiment(t.gql);
    const from = await head();
    const first = await runTrial(t.gql, watched);
    await noiseElsewhere(t.gql, other);
    const second = await runTrial(t.gql, watched);
    const expected = await historyOf(t.gql, [first, second]);

    const sub = collect<Message>(ws, CHANGES, { id: watched, after: from }, (items) => items.length >= expected.length);
    const changes = changesOf(await sub.done);
    expect(changes.map((c) => ({ position: c.position, type: c.type, jobId: c.job.id }))).toEqual(expected);
    expect(new Set(changes.map((c) => c.type))).toEqual(
      new Set(['JobCreated', 'JobClaimed', 'JobHeartbeat', 'JobMetricsReported', 'JobLogAppended', 'JobCompleted']),
    );
    // The job is read when the change is delivered: by then both have finished.
    expect(changes.every((c) => c.job.status === 'SUCCEEDED')).toBe(true);
  });

  it('given no position, when subscribed, then it starts from now and follows live changes only', async () => {
    const watched = await createExperiment(t.gql);
    const other = await createExperiment(t.gql);
    await runTrial(t.gql, watched); // before the subscription: not replayed
    const baseline = t.trialog.feed.subscriberCount;
    const sub = collect<Message>(ws, CHANGES, { id: watched }, (items) => items.length >= 2);
    await untilSubscribers(baseline + 1);

    await noiseElsewhere(t.gql, other);
    const fresh = await createJob(t.gql, { experimentId: watched });
    ok(await t.gql(CANCEL, { input: { jobId: fresh.id } }));

    const changes = changesOf(await sub.done);
    expect(changes.map((c) => [c.type, c.job.id])).toEqual([
      ['JobCreated', fresh.id],
      ['JobCancelled', fresh.id],
    ]);
  });

  it('given a position, when resubscribed after it, then exactly the events after it come, then live ones, none twice', async () => {
    const watched = await createExperiment(t.gql);
    const other = await createExperiment(t.gql);
    const from = await head();
    const trial = await runTrial(t.gql, watched);
    // More than a backlog page (500) of other jobs' events between the watched ones (written side by side: one commit).
    await noiseElsewhere(t.gql, other);
    const noise = { actor: 'test', correlationId: 'noise' };
    await Promise.all(Array.from({ length: 600 }, () => t.trialog.jobCommands.createJob({ labels: ['noise'] }, noise)));
    const late = await createJob(t.gql, { experimentId: watched });
    const history = await historyOf(t.gql, [trial, late.id]);

    // A first connection took three changes, then was lost.
    const firstConnection = changesOf(
      await collect<Message>(ws, CHANGES, { id: watched, after: from }, (items) => items.length >= 3).done,
    );
    expect(firstConnection.map((c) => c.position)).toEqual(history.slice(0, 3).map((e) => e.position));

    // Resumed from the last one it had: the rest of the backlog, across the other job's 600 events, then a live change.
    const backlog = history.length - 3;
    const resumed = collect<Message>(
      ws,
      CHANGES,
      { id: watched, after: firstConnection[2]!.position },
      (items) => items.length >= backlog + 1,
    );
    for (let i = 0; i < 250 && resumed.items.length < backlog; i++) await new Promise((r) => setTimeout(r, 20));
    expect(resumed.items).toHaveLength(backlog); // nothing more until the next change
    const liveJob = (await createJob(t.gql, { experimentId: watched })).id;
    const rest = changesOf(await resumed.done);
    const liveCreated = (await historyOf(t.gql, [liveJob]))[0]!;
    expect(rest.map((c) => ({ position: c.position, type: c.type, jobId: c.job.id }))).toEqual([
      ...history.slice(3),
      liveCreated,
    ]);

    // Resumed from the very last: nothing it had again, only what comes next.
    const fromLast = collect<Message>(
      ws,
      CHANGES,
      { id: watched, after: liveCreated.position },
      (items) => items.length >= 1,
    );
    ok(await t.gql(CANCEL, { input: { jobId: liveJob } }));
    expect(changesOf(await fromLast.done).map((c) => [c.type, c.job.id])).toEqual([['JobCancelled', liveJob]]);
  });

  it('an unknown experiment is NOT_FOUND, and a position that is none is BAD_USER_INPUT', async () => {
    await expect(collect(ws, CHANGES, { id: 'exp_missing' }, () => true).done).rejects.toThrow(/NOT_FOUND/);
    const watched = await createExperiment(t.gql);
    await expect(collect(ws, CHANGES, { id: watched, after: 'not-a-position' }, () => true).done).rejects.toThrow(
      /BAD_USER_INPUT/,
    );
  });

  it('given 300 jobs in the experiment and three subscribers, a change reads one job row for all of them, and no other job', async () => {
    const own = await startTestServer();
    try {
      const experimentId = await createExperiment(own.gql);
      for (let done = 0; done < 300; done += 50) {
        const fields = Array.from(
          { length: 50 },
          (_, i) => `j${i}: createJob(input: { experimentId: "${experimentId}" }) { id }`,
        );
        ok(await own.gql(`mutation { ${fields.join('\n')} }`));
      }
      const target = await createJob(own.gql, { experimentId });
      const queries = own.trialog.jobQueries;
      const asked = { job: 0, jobs: 0, experimentIdOf: 0 };
      const [job, jobs, experimentIdOf] = [
        queries.job.bind(queries),
        queries.jobs.bind(queries),
        queries.experimentIdOf.bind(queries),
      ];
      queries.job = (id) => (asked.job++, job(id));
      queries.jobs = (...args) => (asked.jobs++, jobs(...args));
      queries.experimentIdOf = (id) => (asked.experimentIdOf++, experimentIdOf(id));

      // What a cancel asks of the read model with nobody listening.
      const spare = await createJob(own.gql, { experimentId });
      Object.assign(asked, { job: 0, jobs: 0, experimentIdOf: 0 });
      ok(await own.gql(CANCEL, { input: { jobId: spare.id } }));
      const alone = { ...asked };

      const client = wsClient(own.url);
      const baseline = own.trialog.feed.subscriberCount;
      const subs = Array.from({ length: 3 }, () =>
        collect<Message>(client, CHANGES, { id: experimentId }, (items) => items.length >= 1),
      );
      for (let i = 0; i < 250 && own.trialog.feed.subscriberCount < baseline + 3; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(own.trialog.feed.subscriberCount).toBe(baseline + 3);

      Object.assign(asked, { job: 0, jobs: 0, experimentIdOf: 0 });
      ok(await own.gql(CANCEL, { input: { jobId: target.id } }));
      const delivered = await Promise.all(subs.map((s) => s.done));
      expect(delivered.map((items) => changesOf(items).map((c) => [c.type, c.job.id, c.job.status]))).toEqual(
        Array.from({ length: 3 }, () => [['JobCancelled', target.id, 'CANCELLED']]),
      );
      // One more job row than with nobody listening, for all three; no list of the experiment's jobs; the job's
      // experiment looked up once for all three (then cached).
      expect(asked.job).toBe(alone.job + 1);
      expect(asked.jobs).toBe(alone.jobs);
      expect(asked.experimentIdOf).toBe(1);
      await client.dispose();
    } finally {
      await own.stop();
    }
  });
});

describe('experimentJobsChanged with keys', () => {
  const ADMIN = 'a-very-long-bootstrap-admin-key-for-experiment-changes';

  it('a VIEWER key may subscribe; without a key it is refused (4403 over graphql-ws, UNAUTHENTICATED over SSE)', async () => {
    const own = await startTestServer({ adminKey: ADMIN });
    try {
      const admin: Gql = (q, v) => own.gql(q, v, { authorization: `Bearer ${ADMIN}` });
      const viewerKey = ok(await admin(`mutation { createApiKey(input: { name: "dashboard", role: VIEWER }) { key } }`))
        .createApiKey.key;
      const experimentId = await createExperiment(admin);
      const from = (await own.trialog.store.headPosition())!;
      const job = await createJob(admin, { experimentId });

      const viewer = wsClient(own.url, `Bearer ${viewerKey}`);
      const changes = changesOf(
        await collect<Message>(viewer, CHANGES, { id: experimentId, after: from }, (items) => items.length >= 1).done,
      );
      expect(changes.map((c) => [c.type, c.job.id])).toEqual([['JobCreated', job.id]]);
      await viewer.dispose();

      // Without a key: over graphql-ws the connection is refused (4403), over SSE the subscription is UNAUTHENTICATED.
      let closedWith: (code: number) => void = () => {};
      const closed = new Promise<number>((resolve) => (closedWith = resolve));
      const stranger = createClient({
        url: own.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        on: { closed: (event) => closedWith((event as { code: number }).code) },
      });
      stranger.subscribe(
        { query: CHANGES, variables: { id: experimentId, after: from } },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      expect(await closed).toBe(4403);
      await stranger.dispose();
      const sse = await fetch(own.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: CHANGES, variables: { id: experimentId, after: from } }),
      });
      expect(await sse.text()).toMatch(/"code":"UNAUTHENTICATED"/);
    } finally {
      await own.stop();
    }
  });
});

describe('experimentJobsChanged on two server processes sharing one store', () => {
  const { start, freshDb } = serverProcessesPerTest();

  it('a subscriber on one process gets every change made through the other, in order, from a position', async () => {
    const db = freshDb();
    const a = await start(db);
    const b = await start(db);
    const [gqlA, gqlB] = [gqlClient(a.url), gqlClient(b.url)];
    const experimentId = await createExperiment(gqlA);
    const other = await createExperiment(gqlA);
    const { events } = ok(
      await gqlB(`query($s: String!) { events(filter: { streamId: $s }) { edges { node { position } } } }`, {
        s: `experiment-${experimentId}`,
      }),
    );
    const from = events.edges.at(-1).node.position;
    const first = await runTrial(gqlA, experimentId);
    await noiseElsewhere(gqlA, other);
    const second = await runTrial(gqlA, experimentId);
    const expected = await historyOf(gqlA, [first, second]);

    const client = wsClient(b.url);
    const changes = changesOf(
      await collect<Message>(
        client,
        CHANGES,
        { id: experimentId, after: from },
        (items) => items.length >= expected.length,
      ).done,
    );
    expect(changes.map((c) => ({ position: c.position, type: c.type, jobId: c.job.id }))).toEqual(expected);
    await client.dispose();
  });
});
