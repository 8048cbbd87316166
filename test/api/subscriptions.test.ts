/**
 * Live updates over the real transports: graphql-ws on /graphql and SSE.
 * Subscriptions are fed from the log by the projection runner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { APPEND_LOG, COMPLETE, HEARTBEAT, claim, createJob } from '../helpers/jobs.js';
import { collect, ok, startTestServer, wsClient, type TestServer } from '../helpers/server.js';

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

const STATUS_CHANGES = `subscription($status: [JobStatus!]) {
  jobStatusChanged(status: $status) { job { id status } from to at position }
}`;

/**
 * Waits until a fresh subscription is live on the server: pokes (makes a
 * change) until the subscription reports one of the pokes.
 */
async function untilLive<T>(items: T[], seen: (item: T) => boolean, poke: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await poke();
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (items.some(seen)) return;
  }
  throw new Error('subscription never became live');
}

describe('jobStatusChanged over graphql-ws', () => {
  it("a subscriber sees a job's status transitions in order", async () => {
    type Change = { jobStatusChanged: { job: { id: string }; from: string | null; to: string; position: string } };
    let jobId = '';
    const sub = collect<Change>(ws, STATUS_CHANGES, {}, (items) =>
      items.some((i) => i.jobStatusChanged.job.id === jobId && i.jobStatusChanged.to === 'SUCCEEDED'),
    );
    const sentinels = new Set<string>();
    await untilLive(
      sub.items,
      (i) => sentinels.has(i.jobStatusChanged.job.id),
      async () => sentinels.add((await createJob(t.gql, { labels: ['sentinel'] })).id),
    );

    jobId = (await createJob(t.gql, { labels: ['watched'] })).id;
    const c = (await claim(t.gql, { workerId: 'w', labels: ['watched'] }))!;
    ok(await t.gql(HEARTBEAT, { input: { jobId, leaseToken: c.leaseToken, progress: 0.5 } }));
    ok(await t.gql(COMPLETE, { input: { jobId, leaseToken: c.leaseToken } }));

    const mine = (await sub.done).map((i) => i.jobStatusChanged).filter((c) => c.job.id === jobId);
    expect(mine.map((c) => [c.from, c.to])).toEqual([
      [null, 'QUEUED'],
      ['QUEUED', 'RUNNING'],
      ['RUNNING', 'SUCCEEDED'],
    ]);
    const positions = mine.map((c) => c.position);
    expect([...positions].sort()).toEqual(positions);
  });

  it('narrows by status', async () => {
    type Change = { jobStatusChanged: { job: { id: string }; to: string } };
    const sub = collect<Change>(ws, STATUS_CHANGES, { status: ['CANCELLED'] }, (items) => items.length >= 1);
    // Each poke creates a job (QUEUED: filtered out) and cancels it (CANCELLED: delivered).
    await untilLive(
      sub.items,
      () => true,
      async () => {
        const job = await createJob(t.gql, { labels: ['narrow'] });
        await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: job.id });
      },
    );
    const items = await sub.done;
    expect(items.map((i) => i.jobStatusChanged.to)).toEqual(['CANCELLED']);
  });

  it('given a position, a resubscriber gets the changes after it first, then live ones, none missed or repeated', async () => {
    type Change = { jobStatusChanged: { job: { id: string }; from: string | null; to: string; position: string } };
    const RESUMING = `subscription($after: String, $status: [JobStatus!]) {
      jobStatusChanged(after: $after, status: $status) { job { id } from to position }
    }`;
    // Given a dashboard that saw a job created, then lost its connection while the job was cancelled
    // and another was created and cancelled (the log is not empty: a position to start after)
    await createJob(t.gql, { labels: ['earlier'] });
    const before = ok(await t.gql(`{ events(first: 1000) { pageInfo { endCursor } } }`)).events.pageInfo.endCursor;
    const a = await createJob(t.gql, { labels: ['resume'] });
    const seen = collect<Change>(ws, RESUMING, { after: before }, (items) => items.length >= 1);
    const [created] = (await seen.done).map((i) => i.jobStatusChanged);
    expect([created!.job.id, created!.to]).toEqual([a.id, 'QUEUED']);
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: a.id }));
    const b = await createJob(t.gql, { labels: ['resume'] });
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: b.id }));

    // When it resubscribes after the last position it saw, narrowed to cancellations
    let liveJobId = '';
    const resumed = collect<Change>(ws, RESUMING, { after: created!.position, status: ['CANCELLED'] }, (items) =>
      items.some((i) => i.jobStatusChanged.job.id === liveJobId),
    );
    const c = await createJob(t.gql, { labels: ['resume'] });
    liveJobId = c.id;
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: c.id }));

    // Then it gets the missed cancellations in order, then the live one, each once
    const changes = (await resumed.done).map((i) => i.jobStatusChanged);
    expect(changes.map((change) => [change.job.id, change.from, change.to])).toEqual([
      [a.id, 'QUEUED', 'CANCELLED'],
      [b.id, 'QUEUED', 'CANCELLED'],
      [c.id, 'QUEUED', 'CANCELLED'],
    ]);
  });
});

describe('logPosition: where a first page ends in the log', () => {
  it('given a position read before a first page, a feed after it carries every later change and none before', async () => {
    // Given a job created before a page reads the position
    const earlier = await createJob(t.gql, { labels: ['before-position'] });
    const { logPosition } = ok(await t.gql(`{ logPosition }`));
    expect(typeof logPosition).toBe('string');
    // When a job is created after it, and a feed subscribes after the position
    const later = await createJob(t.gql, { labels: ['after-position'] });
    const feed = collect<{ jobStatusChanged: { job: { id: string } } }>(
      ws,
      `subscription($after: String) { jobStatusChanged(after: $after) { job { id } } }`,
      { after: logPosition },
      (items) => items.length >= 1,
    );
    // Then the feed starts with the later job, not the earlier one
    const [first] = await feed.done;
    expect(first!.jobStatusChanged.job.id).toBe(later.id);
    expect(first!.jobStatusChanged.job.id).not.toBe(earlier.id);
  });
});

describe('jobLogs over graphql-ws', () => {
  const LOGS = `subscription($jobId: ID!, $afterOffset: Int) { jobLogs(jobId: $jobId, afterOffset: $afterOffset) { offset text stream } }`;
  type Line = { jobLogs: { offset: number; text: string } };

  it('replays the backlog after an offset, then follows live lines, with no gap or repeat; a resume continues exactly', async () => {
    const job = await createJob(t.gql, { labels: ['logs'] });
    const c = (await claim(t.gql, { workerId: 'w', labels: ['logs'] }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['l0', 'l1', 'l2', 'l3', 'l4'] } }));

    const TOTAL = 205;
    const first = collect<Line>(ws, LOGS, { jobId: job.id, afterOffset: 2 }, (items) => items.length >= 60);
    // Live appends race the backlog replay on purpose.
    const appending = (async () => {
      for (let next = 5; next < TOTAL; next += 10) {
        const lines = Array.from({ length: Math.min(10, TOTAL - next) }, (_, i) => `l${next + i}`);
        ok(await t.gql(APPEND_LOG, { input: { ...lease, lines } }));
      }
    })();
    const firstPart = (await first.done).map((i) => i.jobLogs);
    await appending;
    expect(firstPart.map((l) => l.offset)).toEqual(Array.from({ length: 60 }, (_, i) => i + 3));
    expect(firstPart.every((l) => l.text === `l${l.offset}`)).toBe(true);

    // The client went away after offset 62; it resumes from there.
    const lastSeen = firstPart[firstPart.length - 1]!.offset;
    const resumed = collect<Line>(ws, LOGS, { jobId: job.id, afterOffset: lastSeen }, (items) =>
      items.some((i) => i.jobLogs.offset === TOTAL - 1),
    );
    const rest = (await resumed.done).map((i) => i.jobLogs.offset);
    expect(rest).toEqual(Array.from({ length: TOTAL - 1 - lastSeen }, (_, i) => lastSeen + 1 + i));
  });

  it('an unknown job is NOT_FOUND', async () => {
    const sub = collect<Line>(ws, LOGS, { jobId: 'job_missing' }, () => true);
    await expect(sub.done).rejects.toThrow(/NOT_FOUND/);
  });
});

describe('jobLogBatches over graphql-ws', () => {
  type Batch = { jobLogBatches: { lastOffset: number; lines: { offset: number; text: string }[] } };
  const BATCHES = `subscription($jobId: ID!, $afterOffset: Int) {
    jobLogBatches(jobId: $jobId, afterOffset: $afterOffset) { lastOffset lines { offset text } }
  }`;

  it('given a log with lines, then the backlog after the offset comes as one batch and each later append as one batch of its lines, none missed or repeated; a resume after a batch continues exactly', async () => {
    const job = await createJob(t.gql, { labels: ['batches'] });
    const c = (await claim(t.gql, { workerId: 'w', labels: ['batches'] }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    const append = async (from: number, count: number) =>
      ok(
        await t.gql(APPEND_LOG, {
          input: { ...lease, lines: Array.from({ length: count }, (_, i) => `l${from + i}`) },
        }),
      );
    await append(0, 5);

    const first = collect<Batch>(ws, BATCHES, { jobId: job.id, afterOffset: 1 }, (items) =>
      items.some((i) => i.jobLogBatches.lastOffset === 24),
    );
    // Appends of 10 lines race the backlog on purpose.
    for (let next = 5; next < 25; next += 10) await append(next, 10);
    const batches = (await first.done).map((i) => i.jobLogBatches);
    const offsets = batches.flatMap((b) => b.lines.map((l) => l.offset));
    expect(offsets).toEqual(Array.from({ length: 23 }, (_, i) => i + 2));
    expect(batches.every((b) => b.lines.every((l) => l.text === `l${l.offset}`))).toBe(true);
    expect(batches.every((b) => b.lastOffset === b.lines.at(-1)!.offset)).toBe(true);
    // Never one message per line: the backlog (3 lines) and two appends of 10 come in at most three batches.
    expect(batches.length).toBeLessThanOrEqual(3);

    // The client went away after the first batch; it resumes after that batch's last offset.
    const resumed = collect<Batch>(ws, BATCHES, { jobId: job.id, afterOffset: batches[0]!.lastOffset }, (items) =>
      items.some((i) => i.jobLogBatches.lastOffset === 34),
    );
    await append(25, 10);
    const rest = (await resumed.done).flatMap((i) => i.jobLogBatches.lines.map((l) => l.offset));
    expect(rest).toEqual(Array.from({ length: 34 - batches[0]!.lastOffset }, (_, i) => batches[0]!.lastOffset + 1 + i));
  });

  it('an unknown job is NOT_FOUND', async () => {
    const sub = collect<Batch>(ws, BATCHES, { jobId: 'job_missing' }, () => true);
    await expect(sub.done).rejects.toThrow(/NOT_FOUND/);
  });
});

describe('events (the audit log) over graphql-ws', () => {
  it('from a position: the backlog after it, then live events, none missed or repeated', async () => {
    const before = ok(await t.gql(`{ events(first: 1000) { pageInfo { endCursor } } }`)).events.pageInfo.endCursor;
    const a = await createJob(t.gql, { labels: ['audit'] });
    const sub = collect<{ events: { type: string; streamId: string; position: string } }>(
      ws,
      `subscription($after: String) { events(after: $after, filter: { types: ["JobCreated", "JobCancelled"] }) { type streamId position } }`,
      { after: before },
      (items) => items.filter((i) => i.events.type === 'JobCancelled').length >= 2,
    );
    const b = await createJob(t.gql, { labels: ['audit'] });
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: a.id }));
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: b.id }));
    const events = (await sub.done).map((i) => i.events);
    expect(events.map((e) => [e.type, e.streamId])).toEqual([
      ['JobCreated', `job-${a.id}`],
      ['JobCreated', `job-${b.id}`],
      ['JobCancelled', `job-${a.id}`],
      ['JobCancelled', `job-${b.id}`],
    ]);
    expect(new Set(events.map((e) => e.position)).size).toBe(4);
  });
});

describe('jobUpdated after a revision', () => {
  const UPDATED = `subscription($id: ID!, $after: Int) { jobUpdated(id: $id, afterRevision: $after) { id status revision } }`;
  type Update = { jobUpdated: { id: string; status: string; revision: number } };

  it('given a job that moved past the revision a page last saw, the job as it is now comes first, then live changes', async () => {
    // Given a page that saw the job at its creation, then lost its connection while it was cancelled
    const job = await createJob(t.gql, { labels: ['updated-after'] });
    const seen = ok(await t.gql(`query($id: ID!) { job(id: $id) { revision } }`, { id: job.id })).job.revision;
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: job.id }));
    // When it resubscribes with the last revision it saw
    const updates = collect<Update>(ws, UPDATED, { id: job.id, after: seen }, (items) => items.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    ok(await t.gql(`mutation($id: ID!) { retryJob(input: { jobId: $id }) { id } }`, { id: job.id }));
    // Then the cancellation comes first (without another change to carry it), then the retry
    const [first, second] = (await updates.done).map((u) => u.jobUpdated);
    expect(first!.status).toBe('CANCELLED');
    expect(first!.revision).toBeGreaterThan(seen);
    expect(second!.status).toBe('QUEUED');
  });

  it('given a page that is up to date, nothing comes until the job changes', async () => {
    const job = await createJob(t.gql, { labels: ['updated-current'] });
    const seen = ok(await t.gql(`query($id: ID!) { job(id: $id) { revision } }`, { id: job.id })).job.revision;
    const updates = collect<Update>(ws, UPDATED, { id: job.id, after: seen }, (items) => items.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: job.id }));
    const [first] = (await updates.done).map((u) => u.jobUpdated);
    expect([first!.status, first!.revision > seen]).toEqual(['CANCELLED', true]);
  });
});

describe('jobUpdated over SSE', () => {
  it('streams every change of one job as server-sent events', async () => {
    const job = await createJob(t.gql, { labels: ['sse'] });
    const controller = new AbortController();
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: `subscription($id: ID!) { jobUpdated(id: $id) { id status progress revision } }`,
        variables: { id: job.id },
      }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const updates: { status: string; progress: number | null; revision: number }[] = [];
    let buffer = '';
    const reading = (async () => {
      while (!updates.some((u) => u.status === 'SUCCEEDED')) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let split;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const data = message.split('\n').find((line) => line.startsWith('data:'));
          if (message.startsWith('event: next') && data) updates.push(JSON.parse(data.slice(5)).data.jobUpdated);
        }
      }
    })();
    // The SSE subscription is live once its response has started; drive the job.
    const c = (await claim(t.gql, { workerId: 'w', labels: ['sse'] }))!;
    ok(await t.gql(HEARTBEAT, { input: { jobId: job.id, leaseToken: c.leaseToken, progress: 0.5 } }));
    ok(await t.gql(COMPLETE, { input: { jobId: job.id, leaseToken: c.leaseToken } }));
    await reading;
    controller.abort();
    expect(updates.map((u) => u.status)).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(updates.map((u) => u.revision)).toEqual([1, 2, 3]);
    expect(updates[1]!.progress).toBe(0.5);
  });
});

describe('a client that goes away frees its subscription at once', () => {
  it('over graphql-ws and SSE, even when no further event would match', async () => {
    // A server of its own: nobody else's subscriptions come and go meanwhile.
    const own = await startTestServer();
    const feed = own.trialog.feed;
    const baseline = feed.subscriberCount; // the server's own (it follows key revocations)
    const untilSubscribers = async (count: number) => {
      for (let i = 0; i < 100 && feed.subscriberCount !== count; i++) await new Promise((r) => setTimeout(r, 20));
      return feed.subscriberCount;
    };
    const job = await createJob(own.gql, { labels: ['quiet'] });
    ok(await own.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id: job.id }));
    // Nothing will ever match these again: a finished job's log, a stream that is done.
    const client = wsClient(own.url);
    const logs = collect(
      client,
      `subscription($id: ID!) { jobLogs(jobId: $id) { offset } }`,
      { id: job.id },
      () => false,
    );
    const events = collect(
      client,
      `subscription($s: String) { events(filter: { streamId: $s }) { type } }`,
      { s: `job-${job.id}` },
      () => false,
    );
    const controller = new AbortController();
    await fetch(own.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: `subscription($id: ID!) { jobUpdated(id: $id) { id } }`,
        variables: { id: job.id },
      }),
      signal: controller.signal,
    });
    expect(await untilSubscribers(baseline + 3)).toBe(baseline + 3);

    logs.stop();
    events.stop();
    controller.abort();
    expect(await untilSubscribers(baseline)).toBe(baseline);
    await client.dispose();
    await Promise.all([logs.done, events.done]);
    await own.stop();
  });
});

describe('events subscription positions', () => {
  it('accepts a position in any form the store understands, and refuses one it does not', async () => {
    const job = await createJob(t.gql, { labels: ['positions'] });
    const [event] = ok(
      await t.gql(`query($s: String) { events(filter: { streamId: $s }) { edges { node { position } } } }`, {
        s: `job-${job.id}`,
      }),
    ).events.edges.map((e: any) => e.node.position);
    const short = String(Number(event)); // "0000…42" and "42" name the same position
    const sub = collect<{ events: { streamId: string; type: string } }>(
      ws,
      `subscription($after: String, $s: String) { events(after: $after, filter: { streamId: $s }) { streamId type } }`,
      { after: String(Number(short) - 1), s: `job-${job.id}` },
      (items) => items.length >= 1,
    );
    expect((await sub.done).map((i) => i.events.type)).toEqual(['JobCreated']);
    const bad = collect(ws, `subscription { events(after: "not-a-position") { type } }`, {}, () => true);
    await expect(bad.done).rejects.toThrow(/BAD_USER_INPUT/);
  });
});

describe('experiment filters do not read the jobs that change', () => {
  it("200 subscribers on one experiment: a change to another experiment's job reads no job for them, and its experiment is looked up once", async () => {
    // A server of its own, to count what its read model is asked.
    const own = await startTestServer();
    const queries = own.trialog.jobQueries;
    const asked = { job: 0, experimentIdOf: 0 };
    const job = queries.job.bind(queries);
    const experimentIdOf = queries.experimentIdOf.bind(queries);
    queries.job = (id) => (asked.job++, job(id));
    queries.experimentIdOf = (id) => (asked.experimentIdOf++, experimentIdOf(id));
    const experiment = async (name: string) =>
      ok(
        await own.gql(
          `mutation($name: String!) { createExperiment(input: { name: $name, scheduler: { manual: {} } }) { id } }`,
          { name },
        ),
      ).createExperiment.id as string;
    const quiet = await experiment('quiet');
    const busy = await experiment('busy');
    const cancel = async (id: string) =>
      ok(await own.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }`, { id }));
    const [first, second] = [
      await createJob(own.gql, { experimentId: busy }),
      await createJob(own.gql, { experimentId: busy }),
    ];

    // What cancelling a job asks of the read model with nobody listening.
    Object.assign(asked, { job: 0, experimentIdOf: 0 });
    await cancel(first.id);
    const alone = { ...asked };

    const baseline = own.trialog.feed.subscriberCount; // the server's own (key revocations)
    const clients = [wsClient(own.url), wsClient(own.url), wsClient(own.url)];
    const onQuiet = [
      ...Array.from({ length: 100 }, () =>
        collect(
          clients[0]!,
          `subscription($id: ID!) { experimentUpdated(id: $id) { id } }`,
          { id: quiet },
          () => false,
        ),
      ),
      ...Array.from({ length: 100 }, () =>
        collect(
          clients[1]!,
          `subscription($id: ID) { jobStatusChanged(experimentId: $id) { to } }`,
          { id: quiet },
          () => false,
        ),
      ),
    ];
    type Update = { experimentUpdated: { jobCounts: { cancelled: number } } };
    const onBusy = collect<Update>(
      clients[2]!,
      `subscription($id: ID!) { experimentUpdated(id: $id) { jobCounts { cancelled } } }`,
      { id: busy },
      (items) => items.some((i) => i.experimentUpdated.jobCounts.cancelled === 2),
    );
    for (let i = 0; i < 200 && own.trialog.feed.subscriberCount < baseline + 201; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(own.trialog.feed.subscriberCount).toBe(baseline + 201);

    Object.assign(asked, { job: 0, experimentIdOf: 0 });
    await cancel(second.id);
    // The job's state was read only as often as with nobody listening; its experiment once, for all 201.
    expect(asked.job).toBe(alone.job);
    expect(asked.experimentIdOf).toBe(1);
    // Its own experiment's subscriber heard of it; those on the other heard nothing.
    await onBusy.done;
    expect(onQuiet.every((s) => s.items.length === 0)).toBe(true);

    for (const s of onQuiet) s.stop();
    for (const c of clients) void c.dispose();
    await own.stop();
  });
});

describe('the backlog bound in bytes', () => {
  it('a subscriber that keeps reading is not ended by events larger than the bound', async () => {
    const own = await startTestServer({ maxSubscriberBacklogBytes: 1024 * 1024 });
    const client = wsClient(own.url);
    const job = await createJob(own.gql, { labels: ['big'] });
    const c = (await claim(own.gql, { workerId: 'w', labels: ['big'] }))!;
    const lines = Array.from({ length: 48 }, (_, i) => `${i}`.padEnd(65_000, 'x')); // about 3 MiB an event
    type Event = { events: { type: string; streamId: string } };
    const sub = collect<Event>(
      client,
      `subscription($s: String) { events(filter: { streamId: $s }) { type streamId data } }`,
      { s: `job-${job.id}` },
      (items) => items.filter((i) => i.events.type === 'JobLogAppended').length >= 5,
    );
    await untilLive(
      sub.items,
      (i) => i.events.type === 'JobHeartbeat',
      () => own.gql(HEARTBEAT, { input: { jobId: job.id, leaseToken: c.leaseToken } }),
    );
    for (let i = 0; i < 5; i++)
      ok(await own.gql(APPEND_LOG, { input: { jobId: job.id, leaseToken: c.leaseToken, lines } }));
    const logs = (await sub.done).filter((i) => i.events.type === 'JobLogAppended');
    expect(logs).toHaveLength(5);
    await client.dispose();
    await own.stop();
  });
});
