/**
 * Who sees what in the audit log. Every role reads the log (`events`, each
 * `history`, a past job's history), but the API keys' stream (key ids, names,
 * roles) is the admin's alone, as `apiKeys` is; and no reader, the admin
 * included, is ever served a secret's hash: neither a key's secret hash nor a
 * lease token's. Key names are the actors of the log, so they are unambiguous:
 * the server's own actor names are refused, and a name is never used twice.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseTokenKey } from '../../src/domain/job/lease-token.js';
import { HEARTBEAT, claim, createJob } from '../helpers/jobs.js';
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

const ADMIN = 'an-environment-admin-key-0123456789abcdef';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let t: TestServer;
const keys: Record<string, string> = {};
/** Everything about the keys a non-admin must never read: ids and secret hashes. */
const keyIds: string[] = [];
const secretHashes: string[] = [];
let jobId = '';
let leaseToken = '';

const as =
  (key: string): Gql =>
  (query, variables, headers) =>
    gqlClient(t.url)(query, variables, { authorization: `Bearer ${key}`, ...headers });

beforeAll(async () => {
  t = await startTestServer({ adminKey: ADMIN });
  for (const role of ['ADMIN', 'EDITOR', 'WORKER', 'VIEWER'] as const) {
    const made = ok(
      await as(ADMIN)(
        `mutation($n: String!, $r: ApiKeyRole!) { createApiKey(input: { name: $n, role: $r }) { key apiKey { id } } }`,
        { n: `seer-${role.toLowerCase()}`, r: role },
      ),
    ).createApiKey;
    keys[role] = made.key;
    keyIds.push(made.apiKey.id);
    secretHashes.push(sha256(made.key.split('_')[2]));
  }
  const revoked = ok(
    await as(ADMIN)(`mutation { createApiKey(input: { name: "seer-revoked", role: VIEWER }) { key apiKey { id } } }`),
  ).createApiKey;
  ok(await as(ADMIN)(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { id } }`, { id: revoked.apiKey.id }));
  keyIds.push(revoked.apiKey.id);
  secretHashes.push(sha256(revoked.key.split('_')[2]));

  const job = await createJob(as(keys.EDITOR!), { labels: ['seen'] });
  jobId = job.id;
  leaseToken = (await claim(as(keys.WORKER!), {
    workerId: 'w-seen',
    labels: ['seen'],
    leaseToken: 'a-worker-chosen-lease-token-0123456789abcdef',
  }))!.leaseToken;
});
afterAll(async () => {
  await t.stop();
});

const EVERY_EVENT = `query($after: String, $filter: EventFilter) {
  events(first: 1000, after: $after, filter: $filter) { edges { cursor node { id type streamId position data metadata } } pageInfo { hasNextPage endCursor } }
}`;

/** The whole log as one role reads it, page after page. */
async function wholeLog(gql: Gql): Promise<{ type: string; streamId: string; data: Record<string, unknown> }[]> {
  const events = [];
  let after: string | undefined;
  for (;;) {
    const page = ok(await gql(EVERY_EVENT, { after })).events;
    events.push(...page.edges.map((edge: { node: unknown }) => edge.node));
    if (!page.pageInfo.hasNextPage) return events;
    after = page.pageInfo.endCursor;
  }
}

function expectNoKeyRecords(text: string, who: string) {
  expect(text, `${who} reads the access-keys stream`).not.toMatch(/access-keys|ApiKeyCreated|ApiKeyRevoked/);
  for (const id of keyIds) expect(text, `${who} reads a key id`).not.toContain(id);
  for (const hash of secretHashes) expect(text, `${who} reads a secret hash`).not.toContain(hash);
}

function expectNoSecretHashes(text: string, who: string) {
  for (const hash of secretHashes) expect(text, `${who} reads a key's secret hash`).not.toContain(hash);
  expect(text, `${who} reads a lease token's hash`).not.toContain(sha256(leaseToken));
  expect(text, `${who} reads a field holding a hash`).not.toMatch(/secretHash|leaseTokenHash/);
}

/** A lease token's stream is keyed by a hash of its hash: as good as the hash for testing guesses offline. */
function expectNoLeaseTokenStreams(text: string, who: string) {
  expect(text, `${who} reads a lease token's stream`).not.toContain(leaseTokenKey(sha256(leaseToken)));
  expect(text, `${who} reads a lease token's stream`).not.toMatch(/leasetoken-|LeaseTokenReserved|LeaseTokenSettled/);
}

describe('the audit log by role', () => {
  for (const role of ['EDITOR', 'WORKER', 'VIEWER'] as const) {
    it(`given keys created and revoked, when a ${role} reads the whole log, then no event of the keys' stream is in it, and no lease token's hash`, async () => {
      const log = await wholeLog(as(keys[role]!));
      expect(
        log.some((event) => event.type === 'JobClaimed'),
        'the rest of the log is there',
      ).toBe(true);
      expectNoKeyRecords(JSON.stringify(log), role);
      expectNoSecretHashes(JSON.stringify(log), role);
      expectNoLeaseTokenStreams(JSON.stringify(log), role);
    });

    it(`when a ${role} asks for the keys' stream or its category by name, then FORBIDDEN (the lease tokens' streams too); by its event types, then nothing`, async () => {
      const gql = as(keys[role]!);
      expect(errorCode(await gql(EVERY_EVENT, { filter: { streamId: 'access-keys' } }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(EVERY_EVENT, { filter: { category: 'access' } }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(EVERY_EVENT, { filter: { category: 'leasetoken' } }))).toBe('FORBIDDEN');
      const byType = ok(await gql(EVERY_EVENT, { filter: { types: ['ApiKeyCreated', 'ApiKeyRevoked'] } })).events;
      expect(byType.edges).toEqual([]);
    });
  }

  it('when the ADMIN reads the whole log, then the keys are in it, but not their secret hashes nor lease token hashes', async () => {
    for (const key of [ADMIN, keys.ADMIN!]) {
      const log = await wholeLog(as(key));
      const created = log.filter((event) => event.type === 'ApiKeyCreated');
      expect(created.map((event) => event.data.keyId)).toEqual(expect.arrayContaining(keyIds));
      expect(created[0]!.data).toEqual({
        keyId: expect.any(String),
        name: expect.any(String),
        role: expect.any(String),
      });
      expectNoSecretHashes(JSON.stringify(log), 'ADMIN');
      const byStream = ok(await as(key)(EVERY_EVENT, { filter: { streamId: 'access-keys' } })).events;
      expect(byStream.edges.length).toBe(keyIds.length + 1);
    }
  });

  it("when anyone reads a job's history, now or in the past, then the claim is there without its lease token's hash", async () => {
    const HISTORY = `query($id: ID!) {
      job(id: $id) { history { edges { node { type data } } } }
      jobAt(id: $id, revision: 1) { status history { edges { node { type data } } } }
    }`;
    for (const key of [ADMIN, keys.VIEWER!, keys.WORKER!]) {
      const read = ok(await as(key)(HISTORY, { id: jobId }));
      const claimed = read.job.history.edges.find(
        (edge: { node: { type: string } }) => edge.node.type === 'JobClaimed',
      );
      expect(claimed.node.data).toMatchObject({ workerId: 'w-seen', attempt: 1 });
      expect(read.jobAt.status).toBe('RUNNING');
      expectNoSecretHashes(JSON.stringify(read), 'a reader of history');
    }
  });

  it('and fencing still holds: the lease token works, a wrong one is LEASE_LOST', async () => {
    ok(await as(keys.WORKER!)(HEARTBEAT, { input: { jobId, leaseToken } }));
    expect(errorCode(await as(keys.WORKER!)(HEARTBEAT, { input: { jobId, leaseToken: `${leaseToken}x` } }))).toBe(
      'LEASE_LOST',
    );
  });
});

describe('the live audit log by role', () => {
  const SUBSCRIPTION = `subscription($filter: EventFilter) { events(filter: $filter) { type streamId data } }`;

  it('given a VIEWER subscribed over WebSocket from the start, when a key is created, then it sees the job that follows and never the key', async () => {
    const client = wsClient(t.url, keys.VIEWER);
    const marker = `marker-${Date.now()}`;
    const sub = collect<{ events: { type: string; streamId: string; data: unknown } }>(
      client,
      SUBSCRIPTION,
      {},
      (items) => items.some((item) => JSON.stringify(item).includes(marker)),
    );
    ok(await as(ADMIN)(`mutation { createApiKey(input: { name: "seer-live-ws", role: VIEWER }) { key } }`));
    await createJob(as(keys.EDITOR!), { labels: [marker] });
    const items = await sub.done;
    await client.dispose();
    expectNoKeyRecords(JSON.stringify(items), 'a VIEWER over WebSocket');
    expectNoSecretHashes(JSON.stringify(items), 'a VIEWER over WebSocket');
  });

  it('given a VIEWER subscribed over SSE from the start, when a key is created, then it sees the job that follows and never the key', async () => {
    const controller = new AbortController();
    const response = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${keys.VIEWER}`,
      },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal: controller.signal,
    });
    const marker = `marker-sse-${Date.now()}`;
    ok(await as(ADMIN)(`mutation { createApiKey(input: { name: "seer-live-sse", role: VIEWER }) { key } }`));
    await createJob(as(keys.EDITOR!), { labels: [marker] });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(marker)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain(marker);
    expectNoKeyRecords(text, 'a VIEWER over SSE');
    expectNoSecretHashes(text, 'a VIEWER over SSE');
  });

  it("when a VIEWER subscribes to the keys' stream by name, then FORBIDDEN", async () => {
    const client = wsClient(t.url, keys.VIEWER);
    const sub = collect(client, SUBSCRIPTION, { filter: { streamId: 'access-keys' } }, () => true);
    await expect(sub.done).rejects.toThrow(/"code":"FORBIDDEN"/);
    await client.dispose();
  });
});

describe('worker-chosen lease tokens', () => {
  it('given a token of 32 characters or more that is plainly not random, when a worker claims with it, then BAD_USER_INPUT and nothing is claimed', async () => {
    await createJob(as(keys.EDITOR!), { labels: ['weak-token'] });
    for (const weak of ['a'.repeat(32), '01'.repeat(20), 'abcd'.repeat(10)]) {
      const refused = await as(keys.WORKER!)(
        `mutation($t: String) { claimJob(input: { workerId: "w", labels: ["weak-token"], leaseToken: $t }) { leaseToken } }`,
        { t: weak },
      );
      expect(errorCode(refused), weak).toBe('BAD_USER_INPUT');
    }
    const strong = ok(
      await as(keys.WORKER!)(
        `mutation($t: String) { claimJob(input: { workerId: "w", labels: ["weak-token"], leaseToken: $t }) { leaseToken } }`,
        { t: '3f2b9c1e-7a4d-4e0b-9f61-2c8d5a7e4b10' },
      ),
    );
    expect(strong.claimJob.leaseToken).toBe('3f2b9c1e-7a4d-4e0b-9f61-2c8d5a7e4b10');
  });
});

describe('key names', () => {
  const CREATE = `mutation($n: String!) { createApiKey(input: { name: $n, role: VIEWER }) { apiKey { id name } } }`;

  it("given the server's own actor names in any case, when a key is created with one, then BAD_USER_INPUT and no key", async () => {
    for (const name of ['admin', 'ADMIN', 'Anonymous', 'system', ' System ']) {
      expect(errorCode(await as(ADMIN)(CREATE, { n: name })), name).toBe('BAD_USER_INPUT');
    }
    const names = ok(await as(ADMIN)(`{ apiKeys { name } }`)).apiKeys.map((key: { name: string }) =>
      key.name.toLowerCase(),
    );
    expect(names).not.toContain('admin');
    expect(names).not.toContain('system');
  });

  it("given a revoked key's name, or a live key's name in another case, when a key is created with it, then CONFLICT", async () => {
    expect(errorCode(await as(ADMIN)(CREATE, { n: 'seer-revoked' }))).toBe('CONFLICT');
    expect(errorCode(await as(ADMIN)(CREATE, { n: 'SEER-viewer' }))).toBe('CONFLICT');
    expect(ok(await as(ADMIN)(CREATE, { n: 'seer-unused' })).createApiKey.apiKey.name).toBe('seer-unused');
  });
});
