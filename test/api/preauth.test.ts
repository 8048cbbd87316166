/**
 * What a caller can make the server do before it is authenticated, and how
 * one request or socket is kept from holding the server: refusal from the
 * headers (401), JSON and documents bounded before they are parsed,
 * connection caps and timeouts, graphql-ws messages bounded before they are
 * parsed, refusals over graphql-ws that end one operation only, subscription
 * caps for every caller, and no "Did you mean" with introspection off.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { defaultGraphQLLimits, type GraphQLLimits } from '../../src/config.js';
import {
  collect,
  errorCode,
  gqlClient,
  ok,
  sleep,
  startTestServer,
  wsClient,
  type TestServer,
} from '../helpers/server.js';

const ADMIN_KEY = 'preauth-test-admin-key-0123456789abcdef';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function rawPost(
  url: string,
  options: { headers: Record<string, string | number>; body?: string; localAddress?: string },
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: options.headers, localAddress: options.localAddress },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    // else: headers only, the body never sent
    else req.flushHeaders();
  });
}

describe('given keys are required, a request with no valid key', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN_KEY });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is refused from its headers with 401 UNAUTHENTICATED, before its body is read', async () => {
    // Headers announce 10 MB; not one byte of it is sent. The answer cannot wait for the body.
    const answer = await rawPost(t.url, {
      headers: { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('with a wrong key is refused the same way, and never reaches validation (no suggestions)', async () => {
    for (const headers of [{}, bearer('not-a-key'), bearer(`${ADMIN_KEY}x`)]) {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ jbos { totalCount } }' }),
      });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      expect(body.errors[0]!.message).not.toMatch(/Did you mean|jobs/);
    }
  });

  it("may still load GraphiQL's page, but not run an operation over GET", async () => {
    const page = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const get = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'text/html' },
    });
    expect(get.status).toBe(401);
  });

  it('behind the pre-auth layer too, yoga answers UNAUTHENTICATED with 401', async () => {
    // A key revoked between the headers' check and the operation lands here: yoga's own answer.
    const { createTrialogYoga } = await import('../../src/server.js');
    const { useSubscriptionGuards } = await import('../../src/graphql/subscription-guards-plugin.js');
    const guards = useSubscriptionGuards(t.trialog.services.live, 10);
    const yoga = createTrialogYoga(t.trialog, defaultGraphQLLimits, guards.plugin);
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const response = await yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: '{"query":"{ __typename }"}',
      });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors[0]!.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    }
    guards.dispose();
  });

  it('with a valid key goes through', async () => {
    expect(ok(await t.gql('{ jobs { totalCount } }', undefined, bearer(ADMIN_KEY))).jobs.totalCount).toBe(0);
  });

  it('over WebSocket is refused at connection_init (4403), before any operation is validated', async () => {
    const client = wsClient(t.url, 'Bearer nope');
    const closed = new Promise<number>((resolve) =>
      client.on('closed', (event) => resolve((event as { code: number }).code)),
    );
    const sub = collect(client, '{ jbos }', {}, () => false);
    await expect(sub.done).rejects.toBeTruthy();
    expect(await closed).toBe(4403);
    await client.dispose();
  });
});

describe('bodies and documents are bounded before they are parsed', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  const post = async (body: string) => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const parsed = (await response.json()) as { errors?: { message: string; extensions: { code: string } }[] };
    return { status: response.status, code: parsed.errors?.[0]?.extensions.code, message: parsed.errors?.[0]?.message };
  };

  it('a body nested 1,000,000 deep is TOO_LARGE, refused at the 129th level', async () => {
    const depth = 1_000_000;
    const answer = await post(`{"query":"{ __typename }","variables":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    expect(answer).toMatchObject({ status: 400, code: 'TOO_LARGE' });
    expect(answer.message).toMatch(/nested deeper than 128/);
  });

  it('a large body of ordinary JSON still parses, to the same values', async () => {
    const variables = {
      x: Array.from({ length: 200_000 }, (_, i) => ({ i, s: `v${i}`, n: null, b: i % 2 === 0 })),
      __proto__: { y: 1 },
    };
    const response = await t.gql('mutation($p: JSONObject) { createJob(input: { params: $p }) { params } }', {
      p: { rows: variables.x.slice(0, 500) },
    });
    expect(ok(response).createJob.params).toEqual({ rows: variables.x.slice(0, 500) });
    expect((await post(JSON.stringify({ query: 'query { __typename }', variables }))).code).toBeUndefined();
  });

  it('a document over TRIALOG_MAX_DOCUMENT_BYTES is TOO_LARGE, a 19 MiB string literal among them', async () => {
    const answer = await post(JSON.stringify({ query: `{ job(id: "${'x'.repeat(19 * 1024 * 1024)}") { id } }` }));
    expect(answer).toMatchObject({ code: 'TOO_LARGE' });
    expect(answer.message).toMatch(/document over 102400 bytes/);
  });

  it('a document nested 3,000 deep is TOO_LARGE, not a stack overflow', async () => {
    for (const query of [
      `{ ${'jobs { '.repeat(3000)}id${' }'.repeat(3000)} }`,
      `{ job(id: ${'['.repeat(3000)}1${']'.repeat(3000)}) { id } }`,
    ]) {
      const answer = await post(JSON.stringify({ query }));
      expect(answer.code).toBe('TOO_LARGE');
      expect(answer.message).toMatch(/nested deeper than 128/);
    }
  });

  it('braces inside strings, block strings and comments do not count', async () => {
    const query = `# ${'{'.repeat(500)}\n{ a: job(id: "${'{'.repeat(500)}") { id } b: job(id: """${'['.repeat(500)} \\""" """) { id } }`;
    const response = await t.gql(query);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ a: null, b: null });
  });
});

describe('connections are capped per address and in total, slow requests are cut off', () => {
  let t: TestServer;
  const limits: GraphQLLimits = {
    ...defaultGraphQLLimits,
    maxConnections: 20,
    maxConnectionsPerAddress: 3,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 2000,
  };
  beforeAll(async () => {
    t = await startTestServer({ graphql: limits });
  });
  afterAll(async () => {
    await t.stop();
  });

  const port = () => Number(new URL(t.url).port);
  const slowSocket = (localAddress: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: port(), localAddress }, () => resolve(socket));
      socket.on('error', reject);
    });
  const closedWith = (socket: Socket) =>
    new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
    });

  it('many slow connections from one address do not shut out another', async () => {
    const slow = await Promise.all(Array.from({ length: 3 }, () => slowSocket('127.0.0.1')));
    for (const socket of slow) socket.write(`POST /graphql HTTP/1.1\r\nhost: ${new URL(t.url).host}\r\n`); // headers never finished
    const refused = await slowSocket('127.0.0.1');
    expect(await closedWith(refused)).toMatch(/^HTTP\/1\.1 503/);
    const other = await rawPost(t.url, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
      localAddress: '127.0.0.2',
    });
    expect(other.status).toBe(200);
    for (const socket of slow) socket.destroy();
  });

  it('a body that never finishes is cut off after TRIALOG_REQUEST_TIMEOUT_MS', async () => {
    const socket = await slowSocket('127.0.0.3');
    const closed = closedWith(socket);
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: ${new URL(t.url).host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"qu`,
    );
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a WebSocket that never sends connection_init counts toward the cap and is closed (4408)', async () => {
    const open = async () => {
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { localAddress: '127.0.0.4' });
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      const opened = await new Promise<boolean>((resolve) => {
        socket.on('open', () => resolve(true));
        socket.on('error', () => resolve(false));
      });
      return { opened, closed };
    };
    const sockets = [await open(), await open(), await open()];
    expect(sockets.map((s) => s.opened)).toEqual([true, true, true]);
    expect((await open()).opened).toBe(false);
    expect(await Promise.all(sockets.map((s) => s.closed))).toEqual([4408, 4408, 4408]);
  });
});

describe('graphql-ws messages are bounded before they are parsed', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN_KEY });
  });
  afterAll(async () => {
    await t.stop();
  });

  const socketTo = async () => {
    const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: { type: string; id?: string; payload?: unknown }[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve) => socket.on('open', resolve));
    return { socket, messages, closed };
  };

  it('a 10 MB connection_init is cut off unread (1009; main parsed it for 18.7 s), and the server goes on', async () => {
    const { socket, closed } = await socketTo();
    socket.send(
      JSON.stringify({
        type: 'connection_init',
        payload: { authorization: `Bearer ${ADMIN_KEY}`, junk: `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}` },
      }),
    );
    expect((await closed).code).toBe(1009);
    expect(ok(await t.gql('{ __typename }', undefined, bearer(ADMIN_KEY))).__typename).toBe('Query');
  });

  it('once acknowledged, a message nested too deep closes the socket (4400), unparsed', async () => {
    const { socket, messages, closed } = await socketTo();
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_KEY}` } }));
    while (!messages.some((m) => m.type === 'connection_ack')) await sleep(10);
    socket.send(
      `{"id":"1","type":"subscribe","payload":{"query":"{ __typename }","variables":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`,
    );
    const { code, reason } = await closed;
    expect(code).toBe(4400);
    expect(reason).toMatch(/nested deeper than 128/);
  });
});

describe('over graphql-ws, a refused operation ends that operation only', () => {
  let t: TestServer;
  let viewerKey: string;
  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN_KEY, graphql: { ...defaultGraphQLLimits, maxSubscriptionsPerKey: 1 } });
    ({ key: viewerKey } = await t.trialog.access.createApiKey(
      { name: 'viewer', role: 'viewer' },
      { actor: 'test', correlationId: 'c' },
    ));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a VIEWER sends a forbidden mutation and a subscription over the cap; each gets its code; the live one still delivers; nothing is logged', async () => {
    const logged = vi.spyOn(console, 'error');
    const warned = vi.spyOn(console, 'warn');
    const client = wsClient(t.url, `Bearer ${viewerKey}`);
    let closedCode: number | undefined;
    client.on('closed', (event) => (closedCode = (event as { code: number }).code));
    const live = collect<{ jobStatusChanged: { to: string } }>(
      client,
      'subscription { jobStatusChanged { to } }',
      {},
      (items) => items.length >= 1,
    );
    await sleep(300);

    const refusal = (query: string) =>
      new Promise<string | undefined>((resolve) => {
        client.subscribe(
          { query },
          {
            next: (value) =>
              resolve((value.errors?.[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code),
            error: (errors) => resolve((errors as { extensions?: { code?: string } }[])[0]?.extensions?.code),
            complete: () => {},
          },
        );
      });
    expect(await refusal('mutation { createJob(input: {}) { id } }')).toBe('FORBIDDEN');
    expect(await refusal('subscription { jobStatusChanged { to } }')).toBe('TOO_LARGE');
    expect(await refusal('{ job(id: ')).toBe('BAD_USER_INPUT');

    ok(await t.gql('mutation { createJob(input: {}) { id } }', undefined, bearer(ADMIN_KEY)));
    expect((await live.done).length).toBe(1);
    expect(closedCode).toBeUndefined();
    expect([...logged.mock.calls, ...warned.mock.calls]).toEqual([]);
    logged.mockRestore();
    warned.mockRestore();
    await client.dispose();
  });
});

describe('the per-key subscription cap holds for every caller', () => {
  const overCap = async (t: TestServer, authorization?: string) => {
    const clients = [wsClient(t.url, authorization), wsClient(t.url, authorization)];
    const first = collect(clients[0]!, 'subscription { jobStatusChanged { to } }', {}, () => false);
    await sleep(300);
    const second = collect(clients[1]!, 'subscription { jobStatusChanged { to } }', {}, () => false);
    const outcome = await Promise.race([
      second.done.then(
        () => 'ended',
        (error: Error) => error.message,
      ),
      sleep(1500).then(() => 'still open'),
    ]);
    first.stop();
    second.stop();
    for (const c of clients) void c.dispose();
    return outcome;
  };

  it('the environment admin key has a cap of its own', async () => {
    const t = await startTestServer({
      adminKey: ADMIN_KEY,
      graphql: { ...defaultGraphQLLimits, maxSubscriptionsPerKey: 1 },
    });
    expect(await overCap(t, `Bearer ${ADMIN_KEY}`)).toMatch(/TOO_LARGE/);
    await t.stop();
  });

  it('in open mode every caller shares one cap', async () => {
    const t = await startTestServer({ graphql: { ...defaultGraphQLLimits, maxSubscriptionsPerKey: 1 } });
    expect(await overCap(t)).toMatch(/TOO_LARGE/);
    await t.stop();
  });
});

describe('with introspection off, no error suggests a name', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ graphql: { ...defaultGraphQLLimits, introspection: false } });
  });
  afterAll(async () => {
    await t.stop();
  });

  const cases: [string, string, Record<string, unknown>?][] = [
    ['a field', '{ jbos { totalCount } }'],
    ['an argument', '{ jobs(firts: 1) { totalCount } }'],
    ['a type', 'query($id: IDD!) { job(id: $id) { id } }', { id: 'x' }],
    ['an enum value', '{ jobs(filter: { status: [QUEUD] }) { totalCount } }'],
    [
      'an enum value in variables',
      'query($s: [JobStatus!]) { jobs(filter: { status: $s }) { totalCount } }',
      { s: ['QUEUD'] },
    ],
    ['an input field', 'mutation { createJob(input: { priorty: 1 }) { id } }'],
    [
      'an input field in variables',
      'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }',
      { i: { priorty: 1 } },
    ],
  ];
  for (const [what, query, variables] of cases) {
    it(`${what}`, async () => {
      const response = await t.gql(query, variables);
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors!.map((e) => e.message).join('\n')).not.toMatch(/Did you mean|Suggestion hidden/);
    });
  }

  it('with introspection on, suggestions stay (they help)', async () => {
    const open = await startTestServer();
    expect((await gqlClient(open.url)('{ jbos { totalCount } }')).errors![0]!.message).toMatch(/Did you mean "jobs"/);
    await open.stop();
  });
});
