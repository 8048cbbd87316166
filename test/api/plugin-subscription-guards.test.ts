/**
 * The subscription-guards plugin, in process through `yoga.fetch` (SSE): at
 * most N subscriptions open at once per key (TOO_LARGE past it), counted per
 * key, and a revoked key's subscriptions are ended. That a client going away
 * frees its slot is transport behaviour, specified over HTTP
 * (subscriptions.test.ts, access.test.ts): in process, cancelling the
 * response body does not reach the subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

const ADMIN = 'an-admin-key-for-guard-specs-0123456789';
const MAX_PER_KEY = 2;
const SUBSCRIBE = `subscription { jobStatusChanged { job { id } } }`;
let app: InProcessYoga;

beforeAll(async () => {
  app = await inProcessYoga({ adminKey: ADMIN, graphql: { maxSubscriptionsPerKey: MAX_PER_KEY } });
});
afterAll(async () => {
  await app?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(name: string): Promise<{ key: string; id: string }> {
  const answer = await app.post(
    `mutation($n: String!) { createApiKey(input: { name: $n, role: VIEWER }) { key apiKey { id } } }`,
    { n: name },
    bearer(ADMIN),
  );
  return { key: answer.body.data.createApiKey.key, id: answer.body.data.createApiKey.apiKey.id };
}

/** An SSE subscription; `first()` reads until its first message (or its end). */
async function subscribe(key: string) {
  // As a client going away: the request is aborted (what the server sees when a connection closes).
  const abort = new AbortController();
  const response = await app.fetch({
    signal: abort.signal,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(key) },
    body: JSON.stringify({ query: SUBSCRIBE }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    /** Everything the stream sent until it ended. */
    async untilEnd(): Promise<string> {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
    /** The first `data:` payload, parsed. */
    async firstData(): Promise<any> {
      for (;;) {
        const match = /^data: (.*)$/m.exec(text);
        if (match) return JSON.parse(match[1]!);
        const { done, value } = await reader.read();
        if (done) return undefined;
        text += decoder.decode(value, { stream: true });
      }
    },
    close: async () => {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}

/** Resolves once every subscription given has delivered an event: each is open, and counted. */
async function delivering(...subscriptions: Awaited<ReturnType<typeof subscribe>>[]) {
  await app.post(`mutation { createJob(input: {}) { id } }`, undefined, bearer(ADMIN));
  for (const subscription of subscriptions) {
    expect((await subscription.firstData()).data.jobStatusChanged.job.id).toMatch(/^job_/);
  }
}

describe('subscriptions per key', () => {
  it(`given a key with ${MAX_PER_KEY} open, when it opens one more, then TOO_LARGE naming the cap`, async () => {
    const { key } = await createKey('guard-cap');
    const open = [await subscribe(key), await subscribe(key)];
    await delivering(...open);
    const refused = await (await subscribe(key)).firstData();
    expect(refused.errors[0].extensions.code).toBe('TOO_LARGE');
    expect(refused.errors[0].message).toBe(`at most ${MAX_PER_KEY} subscriptions per key`);
    await Promise.all(open.map((s) => s.close()));
  });

  it("given one key at its cap, then another key's subscriptions are not counted against it", async () => {
    const [a, b] = [await createKey('guard-a'), await createKey('guard-b')];
    const open = [await subscribe(a.key), await subscribe(a.key)];
    await delivering(...open);
    const other = await subscribe(b.key);
    await app.post(`mutation { createJob(input: {}) { id } }`, undefined, bearer(ADMIN));
    expect((await other.firstData()).errors).toBeUndefined();
    await Promise.all([...open, other].map((s) => s.close()));
  });
});

describe('a revoked key', () => {
  it('given a key with an open subscription, when the key is revoked, then the subscription ends', async () => {
    const { key, id } = await createKey('guard-revoked');
    const open = await subscribe(key);
    await app.post(`mutation { createJob(input: {}) { id } }`, undefined, bearer(ADMIN));
    expect((await open.firstData()).data.jobStatusChanged.job.id).toMatch(/^job_/); // open and delivering
    const ended = open.untilEnd();
    await app.post(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { revokedAt } }`, { id }, bearer(ADMIN));
    await expect(ended).resolves.toBeTypeOf('string');
  });
});
