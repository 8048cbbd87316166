/**
 * Reads given positions and filter lists at the edges: a position past the
 * head of the log is legal (nothing yet, in the query and the subscription
 * alike), one out of the store's range is BAD_USER_INPUT; a filter list is
 * deduplicated and bounded, never handed to SQLite whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimits as limits } from '../../src/limits.js';
import { collect, errorCode, ok, startTestServer, wsClient, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  ok(await t.gql(`mutation { createJob(input: { labels: ["edge"] }) { id } }`));
});
afterAll(async () => {
  await t.stop();
});

describe('positions', () => {
  it('given a position past the head, when events are read after it, then the page is empty, and the subscription waits for what comes next', async () => {
    const head = (await t.trialog.store.headPosition())!;
    const next = String(Number(head) + 1).padStart(head.length, '0');
    const page = ok(
      await t.gql(`query($a: String) { events(after: $a) { edges { cursor } pageInfo { hasNextPage } } }`, { a: next }),
    ).events;
    expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: false } });
    // Subscribed after the position the next event will take: it gets the one after that.
    const client = wsClient(t.url);
    const sub = collect<{ events: { position: string } }>(
      client,
      `subscription($a: String) { events(after: $a) { position } }`,
      { a: next },
      (items) => items.length >= 1,
    );
    for (let i = 0; i < 50 && sub.items.length === 0; i++) {
      ok(await t.gql(`mutation { createJob(input: { labels: ["edge"] }) { id } }`));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [first] = await sub.done;
    await client.dispose();
    expect(first!.events.position > next).toBe(true);
  });

  it("given a position beyond the store's range, when events are read or subscribed after it, then BAD_USER_INPUT", async () => {
    for (const after of ['9999999999999999', '9007199254740992', '99999999999999999999']) {
      expect(
        errorCode(await t.gql(`query($a: String) { events(after: $a) { edges { cursor } } }`, { a: after })),
        after,
      ).toBe('BAD_USER_INPUT');
    }
    const client = wsClient(t.url);
    const sub = collect(client, `subscription { events(after: "9999999999999999") { position } }`, {}, () => true);
    await expect(sub.done).rejects.toThrow(/BAD_USER_INPUT|position/);
    await client.dispose();
  });
});

describe('filter lists', () => {
  it('given 40,000 statuses (all repeated), when jobs are listed by them, then the answer is as for the distinct ones', async () => {
    const statuses = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 'QUEUED' : 'RUNNING'));
    const many = ok(
      await t.gql(`query($s: [JobStatus!]) { jobs(filter: { status: $s }) { totalCount } }`, { s: statuses }),
    ).jobs;
    const distinct = ok(await t.gql(`{ jobs(filter: { status: [QUEUED, RUNNING] }) { totalCount } }`)).jobs;
    expect(many.totalCount).toBe(distinct.totalCount);
  });

  it(`given more distinct event types than the limit (${limits.filterListItems}), when events are read by them, then TOO_LARGE; at the limit, an answer`, async () => {
    const types = (n: number) => Array.from({ length: n }, (_, i) => `Type${i}`);
    const query = `query($t: [String!]) { events(filter: { types: $t }) { edges { cursor } } }`;
    expect(errorCode(await t.gql(query, { t: types(limits.filterListItems + 1) }))).toBe('TOO_LARGE');
    expect(
      ok(await t.gql(query, { t: [...types(limits.filterListItems - 1), 'JobCreated'] })).events.edges.length,
    ).toBeGreaterThan(0);
  });
});
