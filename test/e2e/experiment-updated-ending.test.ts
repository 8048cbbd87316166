/**
 * `experimentUpdated` ends as the job feeds do when the server ends it: with
 * the error's code (TOO_LARGE for a subscriber too far behind, UNAVAILABLE for
 * a server shutting down), how to pick up, and `resumeAfter`, the log
 * position of the last change it sent. Each case runs the server as its own
 * process (src/main.ts) and follows the experiment with the graphql-ws client.
 */
import { createClient, type Client } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { scrape } from '../helpers/metrics.js';
import { serverProcessesPerTest } from '../helpers/process.js';
import { gqlClient, ok, type Gql } from '../helpers/server.js';
import { stallingProxy } from '../helpers/stalling-proxy.js';

const processes = serverProcessesPerTest();

const CREATE_EXPERIMENT = `mutation($name: String!) {
  createExperiment(input: { name: $name, scheduler: { manual: {} } }) { id }
}`;
const CREATE_JOB = 'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }';

interface Ending {
  message: string;
  extensions: { code: string; resumeAfter: string | null };
}

/** What one `experimentUpdated` subscriber saw: its updates (the job count of the last), then how the server ended it. */
interface Follower {
  updates: number;
  lastTotal: number;
  ended: Promise<Ending>;
}

function follow(client: Client, experimentId: string, selection: string): Follower {
  const follower = { updates: 0, lastTotal: 0 } as Follower;
  follower.ended = new Promise<Ending>((resolve, reject) => {
    client.subscribe<{ experimentUpdated: { jobCounts: { total: number } } }>(
      {
        query: `subscription($id: ID!) { experimentUpdated(id: $id) { jobCounts { total } ${selection} } }`,
        variables: { id: experimentId },
      },
      {
        next: ({ data }) => {
          follower.updates++;
          follower.lastTotal = data!.experimentUpdated.jobCounts.total;
        },
        error: (errors) =>
          Array.isArray(errors)
            ? resolve(errors[0] as Ending)
            : reject(new Error(`the socket closed first (${(errors as { code?: number }).code})`)),
        complete: () => reject(new Error('the subscription completed without an error')),
      },
    );
  });
  // Awaited where a test expects an ending; a follower the test leaves (disposing its client) completes unawaited.
  follower.ended.catch(() => undefined);
  return follower;
}

function clientOf(url: string): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
}

/** The positions of every event of the experiment's jobs, oldest first. */
async function jobEventPositions(gql: Gql): Promise<string[]> {
  const page = ok<{ events: { edges: { node: { position: string } }[] } }>(
    await gql('{ events(first: 1000, filter: { category: "job" }) { edges { node { position } } } }'),
  );
  return page.events.edges.map((edge) => edge.node.position);
}

/**
 * Makes changes until the follower has received one (its subscription is then
 * in place), failing with the reason should its subscription end first or
 * never take effect: never a loop that runs until the test's timeout.
 */
async function changeUntilLive(follower: Follower, change: () => Promise<void>): Promise<void> {
  let ended: string | undefined;
  follower.ended.then(
    (ending) => (ended = `it ended first: ${ending.extensions.code} ${ending.message}`),
    (error: Error) => (ended = error.message),
  );
  const deadline = Date.now() + 30_000;
  while (follower.updates === 0) {
    if (ended) throw new Error(`the subscription never received a change: ${ended}`);
    if (Date.now() > deadline) throw new Error('the subscription received no change in 30 s of changes');
    await change();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('experimentUpdated, ended by the server', () => {
  it('given a subscriber that stops reading, when its backlog passes the bound, then once it reads again it gets what was sent, then TOO_LARGE with the position of the last change sent', async () => {
    const server = await processes.start(processes.freshDb(), {
      TRIALOG_MAX_SUBSCRIBER_BACKLOG: '3',
      // The client comes through a TCP proxy on another port, which forwards its Host as it is.
      TRIALOG_ALLOWED_HOSTS: '127.0.0.1',
    });
    const gql = gqlClient(server.url);
    const { id: experimentId } = ok(await gql(CREATE_EXPERIMENT, { name: 'stalled' })).createExperiment;
    const proxy = await stallingProxy(server.url);
    const client = clientOf(proxy.url);
    try {
      // Every update carries the params of the experiment's 40 first jobs, 60 KB each: 2.4 MB a message,
      // so that a few updates fill the socket's buffers once the client stops reading.
      const params = { pad: 'p'.repeat(60_000) };
      for (let i = 0; i < 40; i++) ok(await gql(CREATE_JOB, { input: { experimentId, params } }));
      const follower = follow(client, experimentId, 'jobs(first: 40) { edges { node { params } } }');
      let changes = 40;
      const change = async () => {
        ok(await gql(CREATE_JOB, { input: { experimentId } }));
        changes++;
      };
      // The subscription is in place once a change reaches it.
      let early: Ending | undefined;
      void follower.ended.then((ending) => (early = ending));
      while (follower.updates === 0 && !early) await change();
      expect(early).toBeUndefined();

      proxy.stall();
      // Changes go on while the subscriber reads nothing, until the server has ended it (its metric says when).
      const endedTooSlow = async () => (await scrape(server.url)).value('trialog_live_subscribers_ended_total');
      while ((await endedTooSlow()) === 0 && changes < 200) await change();
      proxy.resume();
      const ending = await follower.ended;

      expect(ending.extensions.code).toBe('TOO_LARGE');
      expect(ending.message).toMatch(/query the experiment again and resubscribe/);
      // What was sent came before the ending, and the changes made after the ending were not sent.
      expect(follower.updates).toBeLessThan(changes);
      expect(follower.lastTotal).toBeLessThan(changes);
      // The position to resume after is one of the experiment's changes, neither the first nor the last.
      const positions = await jobEventPositions(gql);
      expect(ending.extensions.resumeAfter).not.toBeNull();
      const at = positions.indexOf(ending.extensions.resumeAfter!);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(positions.length - 1);
    } finally {
      await client.dispose();
      await proxy.close();
    }
  });

  it('given a subscriber that reads, when the server shuts down, then it ends with UNAVAILABLE and the position of the last change sent, and a new server follows the experiment on', async () => {
    const dbPath = processes.freshDb();
    const server = await processes.start(dbPath);
    const gql = gqlClient(server.url);
    const { id: experimentId } = ok(await gql(CREATE_EXPERIMENT, { name: 'restarted' })).createExperiment;
    const client = clientOf(server.url);
    try {
      const follower = follow(client, experimentId, 'id');
      // The subscription is in place once a change reaches it; then every change made is sent.
      let jobs = 0;
      await changeUntilLive(follower, async () => {
        ok(await gql(CREATE_JOB, { input: { experimentId } }));
        jobs++;
      });
      await until(() => follower.lastTotal === jobs, 'the last change was sent');

      await server.kill('SIGTERM');
      const ending = await follower.ended;
      expect(ending.extensions.code).toBe('UNAVAILABLE');
      expect(ending.message).toMatch(/shutting down: query the experiment again and resubscribe/);

      const next = await processes.start(dbPath);
      const nextGql = gqlClient(next.url);
      // The last change sent is the last in the log: nothing was missed while the server was away.
      expect(ending.extensions.resumeAfter).toBe((await jobEventPositions(nextGql)).at(-1));
      const nextClient = clientOf(next.url);
      try {
        const resumed = follow(nextClient, experimentId, 'id');
        await changeUntilLive(resumed, async () => {
          ok(await nextGql(CREATE_JOB, { input: { experimentId } }));
          jobs++;
        });
        await until(() => resumed.lastTotal === jobs, 'the new server sent the last change');
      } finally {
        await nextClient.dispose();
      }
    } finally {
      await client.dispose();
    }
  });
});
