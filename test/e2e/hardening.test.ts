/**
 * The GraphQL layer's limits: graphql-armor's bounds on a document, the
 * request body limit, and introspection and GraphiQL switched off. Each
 * refusal has a code, writes nothing, and the server goes on serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultGraphQLLimits } from '../../src/config.js';
import { errorCode, gqlClient, ok, startTestServer, type TestServer } from '../helpers/server.js';
import { runMain } from '../helpers/process.js';
import { stallingProxy } from '../helpers/stalling-proxy.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    graphql: {
      ...defaultGraphQLLimits,
      maxDepth: 6,
      maxAliases: 5,
      maxCost: 300,
      maxDirectives: 3,
      maxTokens: 300,
      maxBodyBytes: 64 * 1024,
      introspection: false,
      graphiql: false,
    },
  });
});
afterAll(async () => {
  await t.stop();
});

async function stillServing() {
  expect(ok(await t.gql(`{ jobs(first: 1) { totalCount } }`)).jobs.totalCount).toBeGreaterThanOrEqual(0);
}

describe('documents over a limit are TOO_LARGE', () => {
  const deep = `{ jobs { edges { node { parent { parent { parent { parent { id } } } } } } } }`;
  const aliases = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: jobs(first: 1) { totalCount }`).join(' ')} }`;
  const directives = `{ __typename @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) }`;
  const tokens = `{ ${Array.from({ length: 400 }, () => '__typename').join(' ')} }`;
  const costly = `{ jobs { edges { node { metrics { points { step value timestamp } } logs { edges { node { text } } } history { edges { node { data } } } } } } }`;
  for (const [what, query] of [
    ['depth', deep],
    ['aliases', aliases],
    ['directives', directives],
    ['tokens', tokens],
    ['cost', costly],
  ] as const) {
    it(`too much ${what}`, async () => {
      const head = await t.trialog.store.headPosition();
      const response = await t.gql(query);
      expect(errorCode(response), JSON.stringify(response.errors)).toBe('TOO_LARGE');
      expect(response.errors![0]!.message).toMatch(/limit of \d+ exceeded/);
      expect(await t.trialog.store.headPosition()).toBe(head);
      await stillServing();
    });
  }
});

describe('the request body', () => {
  it('a body over the limit gets 413 and TOO_LARGE, with or without Content-Length', async () => {
    const body = JSON.stringify({
      query: 'mutation($h: JSONObject) { createJob(input: { hyperparameters: $h }) { id } }',
      variables: { h: { blob: 'x'.repeat(70 * 1024) } },
    });
    const declared = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(declared.status).toBe(413);
    expect((await declared.json()).errors[0].extensions.code).toBe('TOO_LARGE');
    const chunked = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    // The server either answers 413 or ends the connection; either way nothing is written.
    if (chunked) expect(chunked.status).toBe(413);
    expect(ok(await t.gql(`{ jobs { totalCount } }`)).jobs.totalCount).toBe(0);
  });
});

describe('introspection and GraphiQL can be switched off', () => {
  it('introspection is refused and no field is suggested', async () => {
    const response = await t.gql(`{ __schema { types { name } } }`);
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    const typo = await t.gql(`{ jbos { totalCount } }`);
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('GraphiQL is not served', async () => {
    const page = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/<html/i);
  });
});

describe('limits from the environment', () => {
  it('a bad value stops the server at start with one line', async () => {
    const { output, exit } = runMain({ TRIALOG_DB: ':memory:', TRIALOG_LIMIT_POINTS_PER_REPORT: 'lots' });
    expect(await exit).toBe(2);
    expect(
      output()
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('npm warn')),
    ).toEqual([
      'trialog: invalid configuration: TRIALOG_LIMIT_POINTS_PER_REPORT must be a whole number from 1 to 2147483647 (got "lots")',
    ]);
  });

  it('given TRIALOG_LIMIT_POINTS_PER_REPORT=2, when a worker reports 3 points, then TOO_LARGE and nothing is written; 2 points are taken', async () => {
    const { REPORT_METRICS, claim, createJob } = await import('../helpers/jobs.js');
    const { startServerProcess } = await import('../helpers/process.js');
    const server = await startServerProcess(':memory:', { TRIALOG_LIMIT_POINTS_PER_REPORT: '2' });
    try {
      const gql = gqlClient(server.url);
      const job = await createJob(gql, { labels: ['two-points'] });
      const lease = {
        jobId: job.id,
        leaseToken: (await claim(gql, { workerId: 'w', labels: ['two-points'] }))!.leaseToken,
      };
      const points = (n: number) => Array.from({ length: n }, (_, step) => ({ name: 'loss', value: 1, step }));
      expect(errorCode(await gql(REPORT_METRICS, { input: { ...lease, points: points(3) } }))).toBe('TOO_LARGE');
      ok(await gql(REPORT_METRICS, { input: { ...lease, points: points(2) } }));
      const series = ok(await gql(`query($id: ID!) { job(id: $id) { metrics { points { step } } } }`, { id: job.id }))
        .job.metrics;
      expect(series).toEqual([{ points: [{ step: 0 }, { step: 1 }] }]);
    } finally {
      await server.kill('SIGTERM');
    }
  });
});

describe('subscriptions under pressure', () => {
  it('a connection gets at most N subscriptions', async () => {
    const { wsClient, collect } = await import('../helpers/server.js');
    const small = await startTestServer({ graphql: { ...defaultGraphQLLimits, maxSubscriptionsPerConnection: 2 } });
    const client = wsClient(small.url);
    const subs = [0, 1, 2].map(() => collect(client, `subscription { jobStatusChanged { to } }`, {}, () => false));
    await expect(subs[2]!.done).rejects.toThrow(/TOO_LARGE/);
    subs[0]!.stop();
    subs[1]!.stop();
    await client.dispose();
    await small.stop();
  });

  it('a subscriber that stops reading is ended once its backlog passes the bound, told where to resume; the server goes on', async () => {
    const { default: WebSocket } = await import('ws');
    const small = await startTestServer({ maxSubscriberBacklog: 50 });
    const baseline = small.trialog.feed.subscriberCount; // the server's own (key revocations)
    const socket = new WebSocket(small.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: { type: string; payload?: unknown }[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve) => socket.on('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 10));
    socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { events { position data } }' } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Stop reading: nothing more is taken off the connection, so the server cannot send.
    const raw = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const blob = 'x'.repeat(30 * 1024);
    for (let i = 0; i < 400; i++) {
      ok(
        await small.gql(
          `mutation($h: JSONObject) { createJob(input: { labels: ["flood"], hyperparameters: $h }) { id } }`,
          { h: { blob } },
        ),
      );
    }
    // The server went on serving while the subscriber stalled, and released its backlog.
    expect(ok(await small.gql(`{ jobs { totalCount } }`)).jobs.totalCount).toBe(400);
    expect(small.trialog.feed.subscriberCount).toBe(baseline);
    raw.resume();
    for (let i = 0; i < 200 && !messages.some((m) => m.type === 'error'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const error = messages.find((m) => m.type === 'error') as {
      payload: { message: string; extensions: { code: string } }[];
    };
    expect(error.payload[0]!.extensions.code).toBe('TOO_LARGE');
    expect(error.payload[0]!.message).toMatch(/fell more than 50 events behind.*subscribe again with after: "\d+"/);
    socket.close();
    await small.stop();
  });
});

describe('WebSocket keep-alive and clients that stop reading', () => {
  /** A graphql-ws client on a raw socket, through a proxy that can stop reading from the server. */
  async function rawClient(url: string) {
    const { default: WebSocket } = await import('ws');
    const proxy = await stallingProxy(url);
    // A transparent proxy: the client still names the server it means (the server checks Host).
    const socket = new WebSocket(proxy.url.replace(/^http/, 'ws'), 'graphql-transport-ws', {
      headers: { host: new URL(url).host },
    });
    const messages: { type: string; id?: string; payload?: any }[] = [];
    let closed: number | undefined;
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    socket.on('close', (code) => (closed = code));
    await new Promise((resolve) => socket.on('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 10));
    return { socket, messages, proxy, closed: () => closed };
  }
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  };

  it('a client that stops reading for several keep-alive intervals is not cut off while data waits for it: it reads on and learns where to resume', async () => {
    const { APPEND_LOG, claim, createJob } = await import('../helpers/jobs.js');
    const small = await startTestServer({
      graphql: { ...defaultGraphQLLimits, webSocketKeepAliveMs: 500 },
      maxSubscriberBacklogBytes: 1024 * 1024,
    });
    const job = await createJob(small.gql, { labels: ['stall'] });
    const lease = {
      jobId: job.id,
      leaseToken: (await claim(small.gql, { workerId: 'w', labels: ['stall'] }))!.leaseToken,
    };
    const client = await rawClient(small.url);
    client.socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: `subscription($id: ID!) { jobLogs(jobId: $id) { offset text } }`, variables: { id: job.id } },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.proxy.stall();
    // More than the kernel's socket buffers and the backlog bound hold: the server has to wait for the client.
    const lines = Array.from({ length: 48 }, (_, i) => `${i}`.padEnd(65_000, 'x')); // about 3 MiB
    for (let i = 0; i < 6; i++) ok(await small.gql(APPEND_LOG, { input: { ...lease, lines } }));
    await new Promise((resolve) => setTimeout(resolve, 2000)); // four keep-alive intervals more, not reading
    client.proxy.resume();
    await until(() => client.messages.some((m) => m.type === 'error'));
    const error = client.messages.find((m) => m.type === 'error');
    expect(error?.payload[0].extensions.code).toBe('TOO_LARGE');
    expect(error!.payload[0].message).toMatch(
      /fell more than 1 MiB of events behind.*resubscribe with afterOffset: \d+/,
    );
    const offsets = client.messages.filter((m) => m.type === 'next').map((m) => m.payload.data.jobLogs.offset);
    expect(offsets).toEqual(offsets.map((_, i) => i)); // every line up to there, in order
    expect(error!.payload[0].extensions.resumeAfterOffset).toBe(offsets.at(-1));
    expect(client.closed()).toBeUndefined();
    client.socket.close();
    await client.proxy.close();
    await small.stop();
  });

  it('a client that answers no ping, with nothing waiting for it, is disconnected', async () => {
    const small = await startTestServer({ graphql: { ...defaultGraphQLLimits, webSocketKeepAliveMs: 100 } });
    const client = await rawClient(small.url);
    client.proxy.stall(); // a peer that went away without closing: it reads nothing and answers nothing
    await new Promise((resolve) => setTimeout(resolve, 500));
    client.proxy.resume();
    await until(() => client.closed() !== undefined);
    expect(client.closed()).toBe(1006);
    await client.proxy.close();
    await small.stop();
  });
});
