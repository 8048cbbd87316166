/**
 * Hostile and malformed requests: each is answered with the right error code,
 * the server goes on serving, and the event log is unchanged.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let head: string | undefined;
beforeAll(async () => {
  t = await startTestServer();
  ok(await t.gql(`mutation { createJob(input: { labels: ["seed"] }) { id } }`));
  head = await t.trialog.store.headPosition();
});
afterAll(async () => {
  await t.stop();
});

interface Case {
  name: string;
  /** A raw body (string or bytes), or a document and variables. */
  body: string | Buffer;
  headers?: Record<string, string>;
  method?: string;
  codes: string[];
}

const json = (query: string, variables?: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ query, variables, ...extra });
const MUTATION = (field: string, input: string) => `mutation($i: ${input}!) { ${field}(input: $i) { __typename } }`;

const cases: Case[] = [];
const add = (name: string, body: string | Buffer, codes: string[], extra: Partial<Case> = {}) =>
  cases.push({ name, body, codes, ...extra });

// Wrong types, for every mutation's input.
const inputs: [string, string, Record<string, unknown>][] = [
  ['createJob', 'CreateJobInput', { priority: 'high' }],
  ['createJob', 'CreateJobInput', { labels: 7 }],
  ['createJob', 'CreateJobInput', { maxAttempts: 1.5 }],
  ['createJob', 'CreateJobInput', { hyperparameters: [1, 2] }],
  ['createJob', 'CreateJobInput', { params: 'x' }],
  ['claimJob', 'ClaimJobInput', { workerId: 42 }],
  ['claimJob', 'ClaimJobInput', { workerId: 'w', leaseSeconds: '300' }],
  ['heartbeat', 'HeartbeatInput', { jobId: 1, leaseToken: 't' }],
  ['heartbeat', 'HeartbeatInput', { jobId: 'j', leaseToken: 't', progress: 'half' }],
  ['reportMetric', 'ReportMetricInput', { jobId: 'j', leaseToken: 't', name: 'm', value: 'one' }],
  ['reportMetrics', 'ReportMetricsInput', { jobId: 'j', leaseToken: 't', points: { name: 'm', value: 1 } }],
  ['appendLog', 'AppendLogInput', { jobId: 'j', leaseToken: 't', lines: [1, 2] }],
  ['appendLog', 'AppendLogInput', { jobId: 'j', leaseToken: 't', lines: ['a'], stream: 'STDWHAT' }],
  ['completeJob', 'CompleteJobInput', { jobId: 'j', leaseToken: 't', result: 'done' }],
  ['failJob', 'FailJobInput', { jobId: 'j', leaseToken: 't', error: 'e', retry: 'yes' }],
  ['cancelJob', 'CancelJobInput', { jobId: ['j'] }],
  ['retryJob', 'RetryJobInput', { jobId: { id: 'j' } }],
  ['createExperiment', 'CreateExperimentInput', { name: 'x', scheduler: { manual: {}, random: { space: [] } } }],
  ['createExperiment', 'CreateExperimentInput', { name: 'x', scheduler: {} }],
  [
    'createExperiment',
    'CreateExperimentInput',
    { name: 'x', scheduler: { manual: {} }, objective: { metric: 'm', direction: 'UP' } },
  ],
  ['registerAlgorithm', 'RegisterAlgorithmInput', { interactionId: 'i', algorithmId: 'a', algorithmVersion: 'v1' }],
  ['createTrainingJobs', 'CreateTrainingJobsInput', { entityId: 'e', entityVersion: -0.5, states: [] }],
  ['migrateMappings', 'MigrateMappingsInput', { dryRun: 'maybe' }],
];
// (GraphQL coerces an Int to an ID and a lone value to a one-item list: those two reach the job, which does not exist.)
const coerced = new Set(['heartbeat', 'reportMetrics']);
for (const [field, type, input] of inputs) {
  add(
    `wrong type: ${field} ${JSON.stringify(input).slice(0, 50)}`,
    json(MUTATION(field, type), { i: input }),
    coerced.has(field) && !('progress' in input) ? ['NOT_FOUND'] : ['BAD_USER_INPUT'],
  );
}

// Missing required fields.
const missing: [string, string, Record<string, unknown>][] = [
  ['claimJob', 'ClaimJobInput', {}],
  ['heartbeat', 'HeartbeatInput', { jobId: 'j' }],
  ['heartbeat', 'HeartbeatInput', { leaseToken: 't' }],
  ['reportMetric', 'ReportMetricInput', { jobId: 'j', leaseToken: 't', name: 'm' }],
  ['reportMetrics', 'ReportMetricsInput', { jobId: 'j', leaseToken: 't' }],
  ['appendLog', 'AppendLogInput', { jobId: 'j', leaseToken: 't' }],
  ['completeJob', 'CompleteJobInput', { leaseToken: 't' }],
  ['failJob', 'FailJobInput', { jobId: 'j', leaseToken: 't' }],
  ['cancelJob', 'CancelJobInput', {}],
  ['retryJob', 'RetryJobInput', {}],
  ['createExperiment', 'CreateExperimentInput', { name: 'x' }],
  ['createExperiment', 'CreateExperimentInput', { scheduler: { manual: {} } }],
  ['registerAlgorithm', 'RegisterAlgorithmInput', { interactionId: 'i' }],
  ['createTrainingJobs', 'CreateTrainingJobsInput', { entityId: 'e', entityVersion: 1 }],
  ['carryMappingsForward', 'CarryMappingsForwardInput', { entityId: 'e' }],
];
for (const [field, type, input] of missing)
  add(`missing: ${field} ${JSON.stringify(input)}`, json(MUTATION(field, type), { i: input }), ['BAD_USER_INPUT']);
add('no input at all', json('mutation { createJob { id } }'), ['BAD_USER_INPUT']);
add('null input', json(MUTATION('createJob', 'CreateJobInput'), { i: null }), ['BAD_USER_INPUT']);

// Deep, wide, aliased, directive-laden, long documents.
const nest = (depth: number) => `{ jobs { edges { node { ${'parent { '.repeat(depth)}id${' }'.repeat(depth)} } } } }`;
for (const depth of [10, 20, 50, 200]) add(`deep query (${depth})`, json(nest(depth)), ['TOO_LARGE']);
for (const n of [101, 500, 2000])
  add(`alias flood (${n})`, json(`{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`), [
    'TOO_LARGE',
  ]);
for (const n of [101, 500])
  add(
    `alias flood on a field (${n})`,
    json(`{ ${Array.from({ length: n }, (_, i) => `a${i}: jobs(first: 1) { totalCount }`).join(' ')} }`),
    ['TOO_LARGE'],
  );
add('directive flood', json(`{ __typename ${'@skip(if: false) '.repeat(60)}}`), ['TOO_LARGE']);
add('token flood', json(`{ ${'__typename '.repeat(12_000)}}`), ['TOO_LARGE']);
add(
  'wide and costly',
  json(
    `{ ${Array.from({ length: 40 }, (_, i) => `j${i}: jobs(first: 1000) { edges { node { metrics { points { value } } } } }`).join(' ')} }`,
  ),
  ['TOO_LARGE'],
);

// Huge strings and lists.
const big = 'x'.repeat(300 * 1024);
add('huge label', json(MUTATION('createJob', 'CreateJobInput'), { i: { labels: [big] } }), ['TOO_LARGE']);
add('huge hyperparameters', json(MUTATION('createJob', 'CreateJobInput'), { i: { hyperparameters: { big } } }), [
  'TOO_LARGE',
]);
add('huge params', json(MUTATION('createJob', 'CreateJobInput'), { i: { params: { big } } }), ['TOO_LARGE']);
add('huge idempotency key', json(MUTATION('createJob', 'CreateJobInput'), { i: { idempotencyKey: big } }), [
  'TOO_LARGE',
]);
add('huge worker id', json(MUTATION('claimJob', 'ClaimJobInput'), { i: { workerId: big } }), ['TOO_LARGE']);
add(
  'too many labels',
  json(MUTATION('createJob', 'CreateJobInput'), { i: { labels: Array.from({ length: 1000 }, (_, i) => `l${i}`) } }),
  ['TOO_LARGE'],
);
add(
  'too many points',
  json(MUTATION('reportMetrics', 'ReportMetricsInput'), {
    i: { jobId: 'j', leaseToken: 't', points: Array.from({ length: 10_001 }, () => ({ name: 'm', value: 1 })) },
  }),
  ['TOO_LARGE'],
);
add(
  'too many lines',
  json(MUTATION('appendLog', 'AppendLogInput'), {
    i: { jobId: 'j', leaseToken: 't', lines: Array.from({ length: 10_001 }, () => 'l') },
  }),
  ['TOO_LARGE'],
);
add(
  'a huge log line',
  json(MUTATION('appendLog', 'AppendLogInput'), { i: { jobId: 'j', leaseToken: 't', lines: [big] } }),
  ['TOO_LARGE'],
);
add(
  'huge experiment name',
  json(MUTATION('createExperiment', 'CreateExperimentInput'), { i: { name: big, scheduler: { manual: {} } } }),
  ['TOO_LARGE'],
);
add(
  'a grid too large',
  json(MUTATION('createExperiment', 'CreateExperimentInput'), {
    i: {
      name: 'g',
      scheduler: {
        grid: {
          space: Array.from({ length: 7 }, (_, i) => ({
            name: `p${i}`,
            values: Array.from({ length: 10 }, (_, v) => v),
          })),
        },
      },
    },
  }),
  ['BAD_USER_INPUT', 'TOO_LARGE'],
);
add(
  'a body over the limit',
  json(MUTATION('createJob', 'CreateJobInput'), { i: { params: { x: 'y'.repeat(21 * 1024 * 1024) } } }),
  ['TOO_LARGE'],
);

// Numbers that are not numbers.
for (const literal of ['NaN', 'Infinity', '-Infinity'])
  add(
    `${literal} in JSON variables`,
    `{"query":"${MUTATION('reportMetric', 'ReportMetricInput').replaceAll('"', '\\"')}","variables":{"i":{"jobId":"j","leaseToken":"t","name":"m","value":${literal}}}}`,
    ['BAD_USER_INPUT'],
  );
add(
  '1e999 in JSON variables',
  `{"query":"${MUTATION('reportMetric', 'ReportMetricInput').replaceAll('"', '\\"')}","variables":{"i":{"jobId":"j","leaseToken":"t","name":"m","value":1e999}}}`,
  ['BAD_USER_INPUT'],
);
add('Int out of 32 bits', json(MUTATION('createJob', 'CreateJobInput'), { i: { priority: 2 ** 40 } }), [
  'BAD_USER_INPUT',
]);
add('negative first', json('{ jobs(first: -1) { totalCount } }'), ['BAD_USER_INPUT']);
add('a bad cursor', json('{ jobs(after: "😈") { totalCount } }'), ['BAD_USER_INPUT', undefined as never]);
add('a bad events position', json('{ events(after: "not-a-position") { edges { cursor } } }'), ['BAD_USER_INPUT']);
add('a bad DateTime', json('query { jobAt(id: "j", at: "yesterday") { id } }'), ['BAD_USER_INPUT']);
add('a negative revision', json('query { jobAt(id: "j", revision: -1) { id } }'), ['BAD_USER_INPUT']);
add('an unknown enum value', json('{ jobs(filter: { status: [FINISHED] }) { totalCount } }'), ['BAD_USER_INPUT']);

// Invalid UTF-8 and broken bodies.
add(
  'invalid UTF-8 in the document',
  Buffer.concat([Buffer.from('{"query":"{ jobs { '), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from(' } }"}')]),
  ['BAD_USER_INPUT'],
);
add('a lone surrogate in the document', '{"query":"{ \\ud800 }"}', ['BAD_USER_INPUT']);
add('NUL bytes', '{"query":"\u0000\u0000"}', ['BAD_USER_INPUT']);
add('not JSON', 'query { jobs { totalCount } }', ['BAD_USER_INPUT']);
add('truncated JSON', '{"query":"{ jobs', ['BAD_USER_INPUT']);
add('JSON that is a number', '42', ['BAD_USER_INPUT']);
add('JSON that is a string', '"{ jobs { totalCount } }"', ['BAD_USER_INPUT']);
add('query is not a string', json(42 as unknown as string), ['BAD_USER_INPUT']);
add('variables is not an object', JSON.stringify({ query: '{ __typename }', variables: 'x' }), ['BAD_USER_INPUT']);
add('an empty body', '', ['BAD_USER_INPUT']);
// HTTP's own answer: 415 Unsupported Media Type (checked by status below). (text/plain is refused as cross-site: see Issue 13.)
add('a wrong content type', json('{ __typename }'), [undefined as never], {
  headers: { 'content-type': 'application/xml' },
});
add('a syntax error', json('{ jobs { '), ['BAD_USER_INPUT']);
add(
  'a deeply nested JSON variable',
  `{"query":"${MUTATION('createJob', 'CreateJobInput').replaceAll('"', '\\"')}","variables":{"i":{"params":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}}}`,
  ['BAD_USER_INPUT', 'TOO_LARGE'],
);
add(
  'a deeply nested JSON literal',
  json(`mutation { createJob(input: { params: ${'{ a: '.repeat(100)}1${' }'.repeat(100)} }) { id } }`),
  ['BAD_USER_INPUT', 'TOO_LARGE'],
);

// Unknown operations, fields and methods.
add('an unknown field', json('{ nope }'), ['BAD_USER_INPUT']);
add('an unknown mutation', json('mutation { dropDatabase }'), ['BAD_USER_INPUT']);
add('an unknown argument', json('{ jobs(sortBy: "x") { totalCount } }'), ['BAD_USER_INPUT']);
add(
  'an unknown operation name',
  json('query A { __typename } query B { __typename }', undefined, { operationName: 'C' }),
  ['BAD_USER_INPUT'],
);
add('two operations, no name', json('query A { __typename } query B { __typename }'), ['BAD_USER_INPUT']);
add('an unknown fragment', json('{ ...Nope }'), ['BAD_USER_INPUT']);
add(
  'a fragment cycle',
  json('{ jobs { ...A } } fragment A on JobConnection { ...B } fragment B on JobConnection { ...A }'),
  ['BAD_USER_INPUT'],
);
add('an undefined variable', json('{ job(id: $id) { id } }'), ['BAD_USER_INPUT']);
add('a mutation over GET', '', ['BAD_USER_INPUT'], { method: 'GET', headers: { 'x-graphql-yoga-csrf': '1' } });
add(
  'a subscription to a client that takes only JSON',
  json('subscription { jobStatusChanged { to } }'),
  ['BAD_USER_INPUT', undefined as never],
  {
    headers: { accept: 'application/json' },
  },
);
add('introspection of a missing type', json('{ __type(name: 1) { name } }'), ['BAD_USER_INPUT']);

// Batched floods (batching is off).
add('a batch of 2', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), ['BAD_USER_INPUT']);
add(
  'a batch of 10,000',
  JSON.stringify(
    Array.from({ length: 10_000 }, () => ({ query: MUTATION('createJob', 'CreateJobInput'), variables: { i: {} } })),
  ),
  ['BAD_USER_INPUT'],
);
add('an empty batch', '[]', ['BAD_USER_INPUT']);

// Issue 13 (preauth): bodies and documents bounded before they are parsed.
add(
  'a body nested 9,000,000 deep (18 MB)',
  `{"query":"{ __typename }","variables":{"x":${'['.repeat(9_000_000)}${']'.repeat(9_000_000)}}}`,
  ['TOO_LARGE'],
);
add('a document with a 19 MiB string literal', json(`{ job(id: "${'x'.repeat(19 * 1024 * 1024)}") { id } }`), [
  'TOO_LARGE',
]);
add('a JSON array of 1,048,577 items', `{"query":"{ __typename }","variables":{"x":[${'0,'.repeat(1024 * 1024)}0]}}`, [
  'TOO_LARGE',
]);
add('a document over 100 KiB', json(`{ __typename ${' '.repeat(100 * 1024)}}`), ['TOO_LARGE']);
add('a document nested 3,000 deep', json(`{ ${'jobs { '.repeat(3000)}id${' }'.repeat(3000)} }`), ['TOO_LARGE']);
add(
  'a document with a list literal nested 3,000 deep',
  json(`{ job(id: ${'['.repeat(3000)}1${']'.repeat(3000)}) { id } }`),
  ['TOO_LARGE'],
);

async function send(c: Case): Promise<{ status: number; code: string | undefined }> {
  if (c.headers?.host) return sendRaw(c); // fetch sends its own Host
  const url =
    c.method === 'GET' ? `${t.url}?query=${encodeURIComponent('mutation { createJob(input: {}) { id } }')}` : t.url;
  const response = await fetch(url, {
    method: c.method ?? 'POST',
    headers:
      c.method === 'GET'
        ? { accept: 'application/json', ...c.headers }
        : { 'content-type': 'application/json', ...c.headers },
    body: c.method === 'GET' ? undefined : (c.body as unknown as BodyInit),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

// Issue 13 (integrity): strings that are not well-formed Unicode (lone surrogates), in variables and literals.
const surrogates: [string, string, Record<string, unknown>][] = [
  ['createJob', 'CreateJobInput', { idempotencyKey: 'k\ud800' }],
  ['createJob', 'CreateJobInput', { idempotencyKey: 'k\udfff' }],
  ['createJob', 'CreateJobInput', { labels: ['gpu\ud800'] }],
  ['createJob', 'CreateJobInput', { hyperparameters: { lr: ['\udc00'] } }],
  ['createJob', 'CreateJobInput', { params: { ['k\ud800']: 1 } }],
  ['createExperiment', 'CreateExperimentInput', { name: 'exp\ud800', scheduler: { manual: {} } }],
  ['appendLog', 'AppendLogInput', { jobId: 'j', leaseToken: 't', lines: ['a\ud800b'] }],
  ['claimJob', 'ClaimJobInput', { workerId: 'w\udbff' }],
  ['failJob', 'FailJobInput', { jobId: 'j', leaseToken: 't', error: 'e\ud800' }],
  ['cancelJob', 'CancelJobInput', { jobId: 'j\ud800' }],
  [
    'createTrainingJobs',
    'CreateTrainingJobsInput',
    {
      entityId: 'e',
      entityVersion: 1,
      states: [{ stateName: 's', interactionId: 'i', trainingData: { x: '\ud800' } }],
    },
  ],
];
for (const [field, type, input] of surrogates)
  add(`lone surrogate: ${field} ${JSON.stringify(input).slice(0, 60)}`, json(MUTATION(field, type), { i: input }), [
    'BAD_USER_INPUT',
  ]);
add(
  'lone surrogate: an escaped one in a string literal',
  json('mutation { createJob(input: { idempotencyKey: "k\\ud800" }) { id } }'),
  ['BAD_USER_INPUT'],
);
add('lone surrogate: in the operation name', json('query A { __typename }', undefined, { operationName: 'A\ud800' }), [
  'BAD_USER_INPUT',
]);

// Issue 13 (access): positions out of the store's range, and filter lists longer than SQLite binds.
add(
  'an events position out of range (2^53 and more)',
  json('{ events(after: "9999999999999999") { edges { cursor } } }'),
  ['BAD_USER_INPUT'],
);
add('an events position of 20 digits', json('{ events(after: "99999999999999999999") { edges { cursor } } }'), [
  'BAD_USER_INPUT',
]);
add('a jobs cursor out of range', json('{ jobs(after: "9999999999999999") { totalCount } }'), ['BAD_USER_INPUT']);
add(
  '40,000 event types in a filter',
  json('query($t: [String!]) { events(filter: { types: $t }) { edges { cursor } } }', {
    t: Array.from({ length: 40_000 }, (_, i) => `Type${i}`),
  }),
  ['TOO_LARGE'],
);

// Issue 13 (perimeter): what a web page can make a browser send. A page on another origin (or a
// DNS-rebinding one) is refused by Origin or Host; a request a browser sends cross-site without a
// preflight (a form body, text/plain, a bare GET) is refused even with no Origin. All FORBIDDEN, 403.
const createJob = 'mutation { createJob(input: { labels: ["cross-site"] }) { id } }';
const perimeterCases: [string, string, Record<string, string>, string?][] = [
  ['a foreign Host (DNS rebinding)', json(createJob), { host: 'rebind.example' }],
  ['a foreign Host with our port', json(createJob), { host: 'rebind.example:4000' }],
  ['a foreign Origin', json(createJob), { origin: 'http://evil.example' }],
  ['Origin null (a sandboxed page)', json(createJob), { origin: 'null' }],
  ['an Origin on another port of ours', json(createJob), { origin: 'http://127.0.0.1:1' }],
  [
    'a urlencoded form',
    `query=${encodeURIComponent(createJob)}`,
    { 'content-type': 'application/x-www-form-urlencoded' },
  ],
  [
    'a multipart form',
    `--b\r\ncontent-disposition: form-data; name="operations"\r\n\r\n${json(createJob)}\r\n--b--\r\n`,
    { 'content-type': 'multipart/form-data; boundary=b' },
  ],
  ['a text/plain body', json(createJob), { 'content-type': 'text/plain' }],
  ['a text/plain body with a charset', json(createJob), { 'content-type': 'Text/Plain;charset=UTF-8' }],
];
for (const [name, body, headers] of perimeterCases) add(`cross-site: ${name}`, body, ['FORBIDDEN'], { headers });
add('cross-site: a mutation over GET with no header a page cannot send (an img src)', '', ['FORBIDDEN'], {
  method: 'GET',
});

/** Over node:http, which sends the Host header it is given (or none, as HTTP/1.0 may). */
function sendRaw(c: Case): Promise<{ status: number; code: string | undefined }> {
  const { host, ...headers } = c.headers ?? {};
  const body = typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
  return new Promise((resolve, reject) => {
    const req = request(t.url, {
      method: c.method ?? 'POST',
      setHost: false,
      headers: { 'content-type': 'application/json', ...headers, host, 'content-length': body.length },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { errors?: { extensions?: { code?: string } }[] })
            .errors?.[0]?.extensions?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a page on another origin', () => {
  it('given a foreign Origin, when it posts or asks for a preflight, then no CORS header answers and nothing runs', async () => {
    for (const method of ['POST', 'OPTIONS']) {
      const response = await fetch(t.url, {
        method,
        headers: {
          origin: 'http://evil.example',
          'content-type': 'application/json',
          'access-control-request-method': 'POST',
        },
        body: method === 'POST' ? json(createJob) : undefined,
      });
      const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
      expect(cors, method).toEqual([]);
      expect(response.status, method).toBe(403);
    }
  });
});

describe('hostile and malformed requests over HTTP', () => {
  it(`${cases.length} requests, each refused with its code`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(130);
    const wrong: string[] = [];
    for (const c of cases) {
      const started = Date.now();
      const { status, code } = await send(c).catch((error: Error) => ({ status: 0, code: `failed: ${error.message}` }));
      if (Date.now() - started > 2000) wrong.push(`${c.name}: took ${Date.now() - started} ms`);
      if (!c.codes.includes(code as string)) wrong.push(`${c.name}: HTTP ${status}, code ${code}`);
      if (code === undefined && (status < 400 || status >= 500)) wrong.push(`${c.name}: HTTP ${status} with no error`);
      expect(status, c.name).toBeLessThan(500);
    }
    expect(wrong).toEqual([]);
  });
});

describe('broken WebSocket frames', () => {
  const frames: [string, string | Buffer][] = [
    ['not JSON', 'hello'],
    ['an unknown message type', JSON.stringify({ type: 'explode' })],
    [
      'subscribe before connection_init',
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { jobStatusChanged { to } }' } }),
    ],
    ['binary garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef])],
    ['connection_init twice', JSON.stringify({ type: 'connection_init' })],
  ];
  for (const [name, frame] of frames) {
    it(`${name}: the connection is closed with a protocol code, the server goes on`, async () => {
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      await new Promise((resolve) => socket.on('open', resolve));
      if (name === 'connection_init twice') {
        socket.send(JSON.stringify({ type: 'connection_init' }));
        await new Promise((resolve) => socket.once('message', resolve));
      }
      socket.send(frame);
      const code = await closed;
      expect(code).toBeGreaterThanOrEqual(4400);
      expect(code).toBeLessThan(4500);
    });
  }
});

describe('the server after every hostile request above', () => {
  it('given all of them refused, then the event log is unchanged and the server still serves', async () => {
    expect(await t.trialog.store.headPosition()).toBe(head);
    expect(ok(await t.gql(`{ jobs { totalCount } }`)).jobs.totalCount).toBe(1);
  });
});
