/**
 * Prometheus metrics at /metrics, scraped from a real server (real HTTP,
 * graphql-ws and SSE, the real SQLite store) and read with a text-format
 * parser: each metric moves as the README's Observability section says, and
 * what clients send cannot grow the label set without bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_OPERATION_LABELS } from '../../src/observability/operations.js';
import { scrape } from '../helpers/metrics.js';
import { ok, sleep, startTestServer, wsClient, type TestServer } from '../helpers/server.js';

const ADMIN_KEY = 'metrics-test-admin-key-0123456789abcdef';
const running: TestServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const started = await startTestServer(options);
  running.push(started);
  return started;
}

const CREATE = `mutation CreateJob($lr: Float!) { createJob(input: { hyperparameters: { lr: $lr } }) { id } }`;
const CLAIM = `mutation ClaimJob($worker: String!, $lease: Int) { claimJob(input: { workerId: $worker, leaseSeconds: $lease }) { leaseToken job { id } } }`;

/** Scrapes until `check` holds (a subscription's end reaches the server a moment after the client's), at most 100 times. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !check(value); i++) {
    await sleep(50);
    value = await read();
  }
  return value;
}

describe('access to /metrics', () => {
  it('given keys are required, when scraped without a key, then 401; with any valid key (a viewer), the metrics', async () => {
    const t = await server({ adminKey: ADMIN_KEY });
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    const viewerKey = ok(
      await t.gql(`mutation { createApiKey(input: { name: "prometheus", role: VIEWER }) { key } }`, {}, admin),
    ).createApiKey.key;

    const stranger = await fetch(new URL('/metrics', t.url));
    expect(stranger.status).toBe(401);
    expect(await stranger.text()).toMatch(/UNAUTHENTICATED/);
    const wrongKey = await fetch(new URL('/metrics', t.url), {
      headers: { authorization: 'Bearer trialog_0000000000000000_' + 'x'.repeat(43) },
    });
    expect(wrongKey.status).toBe(401);

    const metrics = await scrape(t.url, { authorization: `Bearer ${viewerKey}` });
    expect(metrics.types.get('trialog_graphql_requests_total')).toBe('counter');
    // The Node process's default metrics come along.
    expect(metrics.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(metrics.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('answers GET only', async () => {
    const t = await server();
    const posted = await fetch(new URL('/metrics', t.url), { method: 'POST', body: '{}' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('GraphQL requests', () => {
  it('are counted by operation, type, code and transport, and queries and mutations are timed', async () => {
    const t = await server({ adminKey: ADMIN_KEY });
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    const viewerKey = ok(
      await t.gql(`mutation { createApiKey(input: { name: "viewer", role: VIEWER }) { key } }`, {}, admin),
    ).createApiKey.key;

    for (const lr of [0.1, 0.2, 0.3]) ok(await t.gql(CREATE, { lr }, admin));
    const refused = await t.gql(CREATE, { lr: 0.4 }, { authorization: `Bearer ${viewerKey}` });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const invalid = await t.gql(`query Typo { jbos { totalCount } }`, {}, admin);
    expect(invalid.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const client = wsClient(t.url, ADMIN_KEY);
    const overSocket = await new Promise<unknown>((resolve, reject) =>
      client.subscribe(
        { query: `query CountJobs { jobs { totalCount } }` },
        { next: resolve, error: reject, complete: () => {} },
      ),
    );
    expect(overSocket).toEqual({ data: { jobs: { totalCount: 3 } } });
    const refusedOverSocket = await new Promise<unknown>((resolve) =>
      wsClient(t.url, viewerKey).subscribe(
        { query: `mutation CreateJob { createJob(input: { hyperparameters: {} }) { id } }` },
        { next: () => {}, error: resolve, complete: () => {} },
      ),
    );
    expect(JSON.stringify(refusedOverSocket)).toMatch(/FORBIDDEN/);

    const metrics = await eventually(
      () => scrape(t.url, admin),
      (m) => m.value('trialog_graphql_requests_total', { operation: 'CountJobs' }) === 1,
    );
    const requests = (labels: Record<string, string>) => metrics.value('trialog_graphql_requests_total', labels);
    expect(requests({ operation: 'CreateJob', type: 'mutation', code: 'OK', transport: 'http' })).toBe(3);
    expect(requests({ operation: 'CreateJob', type: 'mutation', code: 'FORBIDDEN', transport: 'http' })).toBe(1);
    expect(requests({ operation: 'CreateJob', type: 'mutation', code: 'FORBIDDEN', transport: 'ws' })).toBe(1);
    expect(requests({ operation: 'CountJobs', type: 'query', code: 'OK', transport: 'ws' })).toBe(1);
    // A document that does not validate never names a label: its name is the client's to choose.
    expect(requests({ operation: '(invalid)', code: 'BAD_USER_INPUT', transport: 'http' })).toBe(1);
    expect(requests({ operation: 'Typo' })).toBe(0);

    expect(metrics.types.get('trialog_graphql_request_duration_seconds')).toBe('histogram');
    // Refused ones are timed too: the FORBIDDEN over HTTP, not the one over WebSocket (refused before it ran).
    expect(
      metrics.count('trialog_graphql_request_duration_seconds', { operation: 'CreateJob', type: 'mutation' }),
    ).toBe(5);
    expect(
      metrics.value('trialog_graphql_request_duration_seconds_bucket', { operation: 'CreateJob', le: '+Inf' }),
    ).toBe(5);
    expect(metrics.value('trialog_graphql_request_duration_seconds_sum', { operation: 'CreateJob' })).toBeGreaterThan(
      0,
    );
    await client.dispose();
  });

  it('an open subscription counts as open over SSE and WebSocket, and is counted once, with its code, when it ends', async () => {
    const t = await server();
    const open = (transport: string) => async () =>
      (await scrape(t.url)).value('trialog_graphql_subscriptions_open', { transport });

    const controller = new AbortController();
    const sse = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription Follow { jobStatusChanged { to } }` }),
      signal: controller.signal,
    });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(await eventually(open('sse'), (n) => n === 1)).toBe(1);

    const client = wsClient(t.url);
    const received: unknown[] = [];
    const stop = client.subscribe(
      { query: `subscription Watch { jobStatusChanged { to } }` },
      { next: (v) => received.push(v), error: () => {}, complete: () => {} },
    );
    expect(await eventually(open('ws'), (n) => n === 1)).toBe(1);

    controller.abort();
    stop();
    expect(await eventually(open('sse'), (n) => n === 0)).toBe(0);
    expect(await eventually(open('ws'), (n) => n === 0)).toBe(0);
    const metrics = await scrape(t.url);
    expect(
      metrics.value('trialog_graphql_requests_total', {
        operation: 'Follow',
        type: 'subscription',
        code: 'OK',
        transport: 'sse',
      }),
    ).toBe(1);
    expect(
      metrics.value('trialog_graphql_requests_total', {
        operation: 'Watch',
        type: 'subscription',
        code: 'OK',
        transport: 'ws',
      }),
    ).toBe(1);
    // A subscription's lifetime is not a request latency.
    expect(metrics.count('trialog_graphql_request_duration_seconds', { type: 'subscription' })).toBe(0);
    expect(metrics.count('trialog_graphql_request_duration_seconds')).toBe(0);
    await client.dispose();
  });
});

describe('operation names as labels', () => {
  it(`given a flood of distinct operation names, the label set stops at ${MAX_OPERATION_LABELS} names and the rest count as (other)`, async () => {
    const t = await server();
    const flood = 3 * MAX_OPERATION_LABELS;
    for (let i = 0; i < flood; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => t.gql(`query Flood${i + j} { jobs { totalCount } }`).then(ok)),
      );
    }
    // Names of documents that do not validate never take a slot.
    await Promise.all(Array.from({ length: 50 }, (_, j) => t.gql(`query Bad${j} { nope }`)));

    const metrics = await scrape(t.url);
    const operations = new Set(metrics.samples('trialog_graphql_requests_total').map((s) => s.labels.operation!));
    expect(operations.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 3); // + (other), (invalid), (anonymous)
    expect([...operations].filter((name) => name.startsWith('Flood'))).toHaveLength(MAX_OPERATION_LABELS);
    expect(metrics.value('trialog_graphql_requests_total', { operation: '(other)' })).toBe(
      flood - MAX_OPERATION_LABELS,
    );
    expect(metrics.value('trialog_graphql_requests_total', { operation: '(invalid)' })).toBe(50);
    // The histogram's series are bounded the same way.
    const timed = new Set(
      metrics.samples('trialog_graphql_request_duration_seconds_count').map((s) => s.labels.operation!),
    );
    expect(timed.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 3);
  });
});

describe('the event store', () => {
  it('appends are counted with their events and timed; SQLite group commits are sized and their COMMIT timed', async () => {
    const t = await server();
    const before = await scrape(t.url);
    const appendsBefore = before.value('trialog_store_appends_total', { store: 'sqlite', outcome: 'ok' });
    // Sent together, so that appends can share a commit.
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.gql(CREATE, { lr: i }).then(ok)));

    const after = await scrape(t.url);
    const appends = after.value('trialog_store_appends_total', { store: 'sqlite', outcome: 'ok' }) - appendsBefore;
    expect(appends).toBe(20);
    expect(after.value('trialog_store_appended_events_total', { store: 'sqlite' })).toBeGreaterThanOrEqual(20);
    expect(after.count('trialog_store_append_duration_seconds', { store: 'sqlite' })).toBe(
      after.value('trialog_store_appends_total'),
    );
    // Every append went through a group commit: the groups' sizes add up to the appends.
    expect(after.value('trialog_sqlite_group_commit_appends_sum')).toBe(after.value('trialog_store_appends_total'));
    const commits = after.count('trialog_sqlite_group_commit_appends');
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(after.value('trialog_store_appends_total'));
    expect(after.count('trialog_sqlite_commit_duration_seconds')).toBe(commits);
  });

  it('a lost race on the expected revision counts as a conflict', async () => {
    const t = await server();
    const id = ok(await t.gql(CREATE, { lr: 1 })).createJob.id;
    const { store } = t.trialog;
    const [created] = await store.readAll({ filter: { types: ['JobCreated'] } });
    expect(created!.data).toMatchObject({ jobId: id });
    const streamId = created!.streamId;
    await expect(
      store.appendToStream(
        streamId,
        [
          {
            id: crypto.randomUUID(),
            type: 'JobHeartbeat',
            data: {},
            metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
          },
        ],
        { expectedRevision: 'no_stream' },
      ),
    ).rejects.toThrow();
    expect((await scrape(t.url)).value('trialog_store_appends_total', { store: 'sqlite', outcome: 'conflict' })).toBe(
      1,
    );
  });
});

describe('jobs, claims and leases', () => {
  it('claims and lease expiries are counted from the log, alike by two servers on one store; jobs by status and expired leases are read at scrape', async () => {
    const a = await server();
    const b = await server({ dbPath: a.dbPath });
    const id = ok(await a.gql(CREATE, { lr: 1 })).createJob.id;
    expect((await scrape(a.url)).value('trialog_jobs', { status: 'QUEUED' })).toBe(1);

    const first = ok(await a.gql(CLAIM, { worker: 'w1', lease: 1 })).claimJob;
    expect(first.job.id).toBe(id);
    const running = await scrape(a.url);
    expect(running.value('trialog_jobs', { status: 'RUNNING' })).toBe(1);
    expect(running.value('trialog_jobs', { status: 'QUEUED' })).toBe(0);
    expect(running.value('trialog_job_claims_total')).toBe(1);

    // The lease runs out; until another worker claims the job, it shows as expired.
    await sleep(1100);
    expect((await scrape(a.url)).value('trialog_jobs_lease_expired')).toBe(1);
    const second = ok(await b.gql(CLAIM, { worker: 'w2', lease: 60 })).claimJob;
    expect(second.job.id).toBe(id);

    const { position } = (await a.trialog.store.readAll({ maxCount: 1000 })).at(-1)!;
    await a.trialog.runner.waitFor(position);
    await b.trialog.runner.waitFor(position);
    for (const t of [a, b]) {
      const metrics = await scrape(t.url);
      expect(metrics.value('trialog_job_claims_total')).toBe(2);
      expect(metrics.value('trialog_job_lease_expiries_total', { outcome: 'taken_over' })).toBe(1);
      expect(metrics.value('trialog_job_lease_expiries_total', { outcome: 'failed' })).toBe(0);
      expect(metrics.value('trialog_jobs_lease_expired')).toBe(0);
      expect(metrics.value('trialog_jobs', { status: 'RUNNING' })).toBe(1);
    }
  });
});

describe('projection lag and live subscribers', () => {
  it('the projection runner reports its state and lag at scrape', async () => {
    const t = await server();
    ok(await t.gql(CREATE, { lr: 1 }));
    const metrics = await scrape(t.url);
    expect(metrics.value('trialog_projection_state', { state: 'running' })).toBe(1);
    expect(metrics.value('trialog_projection_state', { state: 'failed' })).toBe(0);
    // A mutation answers once the read models include it: nothing is behind.
    expect(metrics.value('trialog_projection_lag_seconds')).toBe(0);
  });

  it("given a store that stops answering or fails, then a scrape still answers every metric, with the runner's state and the lag unknown", async () => {
    const t = await server();
    ok(await t.gql(CREATE, { lr: 1 }));
    const store = t.trialog.store;
    const headPosition = store.headPosition.bind(store);
    try {
      for (const broken of [() => new Promise<never>(() => {}), () => Promise.reject(new Error('the store is gone'))]) {
        store.headPosition = broken;
        const metrics = await scrape(t.url);
        expect(metrics.value('trialog_projection_state', { state: 'running' })).toBe(1);
        expect(metrics.value('trialog_projection_lag_seconds')).toBeNaN();
        expect(metrics.value('trialog_jobs', { status: 'QUEUED' })).toBe(1);
      }
    } finally {
      store.headPosition = headPosition;
    }
    expect((await scrape(t.url)).value('trialog_projection_lag_seconds')).toBe(0);
  });

  it('a live subscriber that does not read shows in the backlog gauges', async () => {
    const t = await server();
    const baseline = (await scrape(t.url)).value('trialog_live_subscribers');
    const stalled = t.trialog.feed.subscribe();
    for (const lr of [1, 2, 3]) ok(await t.gql(CREATE, { lr }));

    const metrics = await scrape(t.url);
    expect(metrics.value('trialog_live_subscribers')).toBe(baseline + 1);
    expect(metrics.value('trialog_live_backlog_events_max')).toBeGreaterThanOrEqual(3);
    expect(metrics.value('trialog_live_backlog_events')).toBeGreaterThanOrEqual(3);
    expect(metrics.value('trialog_live_backlog_bytes_max')).toBeGreaterThan(0);
    stalled.close();
    const after = await scrape(t.url);
    expect(after.value('trialog_live_subscribers')).toBe(baseline);
    expect(after.value('trialog_live_backlog_events_max')).toBe(0);
  });

  it('a subscriber ended for falling too far behind is counted', async () => {
    const t = await server({ maxSubscriberBacklog: 2 });
    const stalled = t.trialog.feed.subscribe();
    for (const lr of [1, 2, 3]) ok(await t.gql(CREATE, { lr }));
    await expect(async () => {
      for (;;) await stalled.next();
    }).rejects.toThrow(/fell more than 2 events behind/);
    expect((await scrape(t.url)).value('trialog_live_subscribers_ended_total')).toBe(1);
  });
});
