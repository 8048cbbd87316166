/**
 * Keys and roles: every mutation tried with each role and with no, a wrong
 * and a revoked key; only the allowed pass, and a refused call appends no
 * event. Subscriptions need a valid key too, and revoking a key closes its
 * open subscriptions. The actor of an event is the key's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  errorCode,
  gqlClient,
  ok,
  startTestServer,
  wsClient,
  type Gql,
  type TestServer,
} from '../helpers/server.js';

const ADMIN = 'a-very-long-bootstrap-admin-key-0123456789';
let t: TestServer;
const keys: Record<string, string> = {};
let revokedKey = '';
let seq = 0;

beforeAll(async () => {
  t = await startTestServer({ adminKey: ADMIN });
  const admin = gqlClient(t.url);
  const as =
    (key: string): Gql =>
    (q, v, h) =>
      admin(q, v, { authorization: `Bearer ${key}`, ...h });
  for (const role of ['ADMIN', 'EDITOR', 'WORKER', 'VIEWER'] as const) {
    const made = ok(
      await as(ADMIN)(
        `mutation($n: String!, $r: ApiKeyRole!) { createApiKey(input: { name: $n, role: $r }) { key apiKey { id role } } }`,
        { n: `${role.toLowerCase()}-key`, r: role },
      ),
    );
    keys[role] = made.createApiKey.key;
  }
  const doomed = ok(
    await as(ADMIN)(`mutation { createApiKey(input: { name: "doomed", role: ADMIN }) { key apiKey { id } } }`),
  ).createApiKey;
  ok(
    await as(ADMIN)(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { revokedAt } }`, {
      id: doomed.apiKey.id,
    }),
  );
  revokedKey = doomed.key;
});
afterAll(async () => {
  await t.stop();
});

const MUTATIONS: Record<string, () => string> = {
  createJob: () => `createJob(input: { labels: ["matrix"] }) { id }`,
  claimJob: () => `claimJob(input: { workerId: "w", labels: ["nothing-to-claim"] }) { leaseToken }`,
  heartbeat: () => `heartbeat(input: { jobId: "job_missing", leaseToken: "t" }) { cancelRequested }`,
  reportMetric: () =>
    `reportMetric(input: { jobId: "job_missing", leaseToken: "t", name: "m", value: 1 }) { shouldStop }`,
  reportMetrics: () =>
    `reportMetrics(input: { jobId: "job_missing", leaseToken: "t", points: [{ name: "m", value: 1 }] }) { shouldStop }`,
  appendLog: () => `appendLog(input: { jobId: "job_missing", leaseToken: "t", lines: ["x"] }) { nextOffset }`,
  completeJob: () => `completeJob(input: { jobId: "job_missing", leaseToken: "t" }) { id }`,
  failJob: () => `failJob(input: { jobId: "job_missing", leaseToken: "t", error: "e" }) { id }`,
  releaseJob: () => `releaseJob(input: { jobId: "job_missing", leaseToken: "t" }) { id }`,
  cancelJob: () => `cancelJob(input: { jobId: "job_missing" }) { id }`,
  retryJob: () => `retryJob(input: { jobId: "job_missing" }) { id }`,
  createExperiment: () => `createExperiment(input: { name: "matrix-${++seq}", scheduler: { manual: {} } }) { id }`,
  pauseExperiment: () => `pauseExperiment(input: { experimentId: "exp_missing" }) { id }`,
  resumeExperiment: () => `resumeExperiment(input: { experimentId: "exp_missing" }) { id }`,
  finishExperiment: () => `finishExperiment(input: { experimentId: "exp_missing" }) { id }`,
  registerAlgorithm: () =>
    `registerAlgorithm(input: { interactionId: "I${++seq}", algorithmId: "A", algorithmVersion: 1 }) { algorithmId }`,
  retireAlgorithm: () => `retireAlgorithm(input: { interactionId: "none" }) { algorithmId }`,
  createTrainingJobs: () =>
    `createTrainingJobs(input: { entityId: "e", entityVersion: 1, states: [{ stateName: "s", interactionId: "none", trainingData: [1] }] }) { stateName }`,
  carryMappingsForward: () =>
    `carryMappingsForward(input: { entityId: "e", fromVersion: 1, toVersion: 2, states: [{ stateName: "s" }] }) { stateName }`,
  migrateMappings: () => `migrateMappings(input: { dryRun: true }) { examined }`,
  createApiKey: () => `createApiKey(input: { name: "made-${++seq}", role: VIEWER }) { key }`,
  revokeApiKey: () => `revokeApiKey(input: { keyId: "0000000000000000" }) { id }`,
};

const ALLOWED: Record<string, string[]> = {
  ADMIN: Object.keys(MUTATIONS),
  EDITOR: [
    'createJob',
    'cancelJob',
    'retryJob',
    'createExperiment',
    'pauseExperiment',
    'resumeExperiment',
    'finishExperiment',
    'createTrainingJobs',
    'carryMappingsForward',
  ],
  WORKER: [
    'claimJob',
    'heartbeat',
    'reportMetric',
    'reportMetrics',
    'appendLog',
    'completeJob',
    'failJob',
    'releaseJob',
  ],
  VIEWER: [],
};

describe('the role matrix', () => {
  const callers: [string, () => string | undefined, string | null][] = [
    ['ADMIN', () => keys.ADMIN, null],
    ['EDITOR', () => keys.EDITOR, null],
    ['WORKER', () => keys.WORKER, null],
    ['VIEWER', () => keys.VIEWER, null],
    ['no key', () => undefined, 'UNAUTHENTICATED'],
    ['a wrong key', () => `trialog_0123456789abcdef_${'x'.repeat(43)}`, 'UNAUTHENTICATED'],
    ['a revoked key', () => revokedKey, 'UNAUTHENTICATED'],
  ];
  for (const [who, key, refusal] of callers) {
    it(`mutations with ${who}`, async () => {
      const gql = gqlClient(t.url);
      for (const [name, document] of Object.entries(MUTATIONS)) {
        const head = await t.trialog.store.headPosition();
        const headers: Record<string, string> = key() ? { authorization: `Bearer ${key()}` } : {};
        const code = errorCode(await gql(`mutation { ${document()} }`, undefined, headers));
        const allowed = refusal === null && ALLOWED[who]!.includes(name);
        if (allowed) expect(['UNAUTHENTICATED', 'FORBIDDEN'], `${who} may call ${name}`).not.toContain(code);
        else {
          expect(code, `${who} may not call ${name}`).toBe(refusal ?? 'FORBIDDEN');
          expect(await t.trialog.store.headPosition(), `${who} calling ${name} wrote nothing`).toBe(head);
        }
      }
      // Reading: every valid key; the key list: admin only.
      const headers: Record<string, string> = key() ? { authorization: `Bearer ${key()}` } : {};
      expect(errorCode(await gql(`{ jobs { totalCount } }`, undefined, headers))).toBe(refusal ?? undefined);
      expect(errorCode(await gql(`{ apiKeys { id } }`, undefined, headers))).toBe(
        refusal ?? (who === 'ADMIN' ? undefined : 'FORBIDDEN'),
      );
    });

    it(`subscriptions with ${who}`, async () => {
      const client = wsClient(t.url, key());
      const sub = collect<{ events: { type: string } }>(
        client,
        `subscription { events { type } }`,
        {},
        (items) => items.length >= 1,
      );
      if (refusal === null) expect((await sub.done).length).toBe(1);
      else await expect(sub.done).rejects.toBeDefined();
      await client.dispose();
    });

    it(`a job's log in batches (jobLogBatches) with ${who}`, async () => {
      const jobId = await jobWithALogLine();
      const client = wsClient(t.url, key());
      const sub = collect<{ jobLogBatches: { lines: { text: string }[] } }>(
        client,
        `subscription($j: ID!) { jobLogBatches(jobId: $j) { lines { text } } }`,
        { j: jobId },
        (items) => items.length >= 1,
      );
      if (refusal === null) expect((await sub.done)[0]!.jobLogBatches.lines).toEqual([{ text: 'a line' }]);
      else await expect(sub.done).rejects.toBeDefined();
      await client.dispose();
    });
  }
});

let loggedJob: Promise<string> | undefined;
/** One job with one log line, made once by the admin key, for the log subscriptions above. */
function jobWithALogLine(): Promise<string> {
  loggedJob ??= (async () => {
    const admin = (q: string, v?: Record<string, unknown>) =>
      gqlClient(t.url)(q, v, { authorization: `Bearer ${ADMIN}` });
    const { id } = ok(await admin(`mutation { createJob(input: { labels: ["logged"] }) { id } }`)).createJob;
    const { leaseToken } = ok(
      await admin(`mutation { claimJob(input: { workerId: "w", labels: ["logged"] }) { leaseToken } }`),
    ).claimJob;
    ok(
      await admin(`mutation($i: AppendLogInput!) { appendLog(input: $i) { nextOffset } }`, {
        i: { jobId: id, leaseToken, lines: ['a line'] },
      }),
    );
    return id as string;
  })();
  return loggedJob;
}

describe('keys', () => {
  it("the actor of an event is the key's name; keys are listed without their secrets", async () => {
    const editor = (q: string) => gqlClient(t.url)(q, undefined, { authorization: `Bearer ${keys.EDITOR}` });
    const job = ok(
      await editor(
        `mutation { createJob(input: { labels: ["actor"] }) { id history { edges { node { metadata } } } } }`,
      ),
    ).createJob;
    expect(job.history.edges[0].node.metadata.actor).toBe('editor-key');
    const listed = ok(
      await gqlClient(t.url)(`{ apiKeys { name role revokedAt } }`, undefined, { authorization: `Bearer ${ADMIN}` }),
    ).apiKeys;
    expect(listed).toContainEqual({ name: 'doomed', role: 'ADMIN', revokedAt: expect.any(String) });
    expect(JSON.stringify(listed)).not.toMatch(/trialog_/);
  });

  it('revoking a key refuses its next request and closes its open subscriptions', async () => {
    const admin = (q: string, v?: Record<string, unknown>) =>
      gqlClient(t.url)(q, v, { authorization: `Bearer ${ADMIN}` });
    const made = ok(
      await admin(`mutation { createApiKey(input: { name: "short-lived", role: VIEWER }) { key apiKey { id } } }`),
    ).createApiKey;
    const client = wsClient(t.url, made.key);
    const sub = collect<{ jobStatusChanged: { to: string } }>(
      client,
      `subscription { jobStatusChanged { to } }`,
      {},
      () => false,
    );
    // Live once a change comes through.
    for (let i = 0; i < 100 && sub.items.length === 0; i++) {
      ok(await admin(`mutation { createJob(input: { labels: ["poke"] }) { id } }`));
      await new Promise((r) => setTimeout(r, 20));
    }
    ok(await admin(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { revokedAt } }`, { id: made.apiKey.id }));
    await expect(sub.done).rejects.toBeDefined();
    expect(
      errorCode(await gqlClient(t.url)(`{ jobs { totalCount } }`, undefined, { authorization: `Bearer ${made.key}` })),
    ).toBe('UNAUTHENTICATED');
    await client.dispose();
  });
});

describe('subscriptions per key, over SSE too', () => {
  async function sse(key: string, query: string): Promise<{ response: Response; abort(): void }> {
    const controller = new AbortController();
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
      signal: controller.signal,
    });
    return { response, abort: () => controller.abort() };
  }

  it('revoking a key ends its SSE subscriptions', async () => {
    const admin = (q: string, v?: Record<string, unknown>) =>
      gqlClient(t.url)(q, v, { authorization: `Bearer ${ADMIN}` });
    const made = ok(
      await admin(`mutation { createApiKey(input: { name: "sse-viewer", role: VIEWER }) { key apiKey { id } } }`),
    ).createApiKey;
    const { response } = await sse(made.key, 'subscription { jobStatusChanged { to } }');
    const reader = response.body!.getReader();
    ok(await admin(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { revokedAt } }`, { id: made.apiKey.id }));
    // The stream ends (after its "complete" event) instead of staying open.
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/event: complete/);
  });
});
