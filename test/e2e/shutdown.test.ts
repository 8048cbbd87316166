/**
 * SIGTERM to a real server process (src/main.ts) while it is busy: every
 * request it took is answered, every write it answered is in the log, and
 * every subscription ends saying where to resume, with nothing lost between
 * the old server and the next one.
 */
import { Agent, get } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverProcessesPerTest, type ServerProcess } from '../helpers/process.js';
import { gqlClient, ok } from '../helpers/server.js';
import { postGraphQL, sseSubscription, wsSubscription, type Outcome } from '../helpers/shutdown-clients.js';

const processes = serverProcessesPerTest();

const CREATE = 'mutation($labels: [String!]) { createJob(input: { labels: $labels }) { id } }';
const ALL_EVENTS = 'subscription($after: String) { events(after: $after) { position type } }';

/** Resolves once the server's output has a line matching `pattern`. */
async function outputMatching(server: ServerProcess, pattern: RegExp): Promise<void> {
  while (!pattern.test(server.output())) {
    if (server.child.exitCode !== null)
      throw new Error(`server exited before printing ${pattern}:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once the process has exited (without signalling it again: a second signal forces the exit). */
function exited(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => server.child.once('exit', () => resolve()));
}

/** Every position in the log, in order, read through the `events` query. */
async function allPositions(url: string): Promise<string[]> {
  const gql = gqlClient(url);
  const positions: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = ok(
      await gql(
        'query($after: String) { events(first: 1000, after: $after) { edges { node { position } } pageInfo { hasNextPage endCursor } } }',
        { after },
      ),
    );
    positions.push(...page.events.edges.map((e: { node: { position: string } }) => e.node.position));
    if (!page.events.pageInfo.hasNextPage) return positions;
    after = page.events.pageInfo.endCursor;
  }
}

/** The positions an SSE subscription `events(after)` delivers on `url`, up to and including `head`. */
async function positionsAfter(url: string, after: string, head: string): Promise<string[]> {
  if (after === head) return [];
  const sub = sseSubscription(url, ALL_EVENTS, { after });
  while (!sub.messages.some((m) => m.data?.data?.events.position === head)) {
    const state = await Promise.race([sub.ended, new Promise((resolve) => setTimeout(() => resolve('reading'), 20))]);
    if (state !== 'reading') throw new Error(`the resumed subscription ended (${String(state)}) before the head`);
  }
  sub.abort();
  return sub.messages.filter((m) => m.event === 'next').map((m) => m.data.data.events.position as string);
}

describe('given a server busy with mutations and subscriptions, when it gets SIGTERM', () => {
  it('then every mutation is answered, every success is in the log, and every subscription ends with where to resume and resumes with no gap', async () => {
    const dbPath = processes.freshDb();
    const server = await processes.start(dbPath);

    const sse = [sseSubscription(server.url, ALL_EVENTS), sseSubscription(server.url, ALL_EVENTS)];
    const ws = [wsSubscription(server.url, ALL_EVENTS), wsSubscription(server.url, ALL_EVENTS)];
    await Promise.all([...sse.map((s) => s.open), ...ws.map((s) => s.connected)]);

    // 24 callers over 6 kept-alive connections, each sending mutations one after another until refused.
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    const outcomes: Outcome[] = [];
    let signalled = false;
    const answeredAfterSignal: Outcome[] = [];
    const caller = async () => {
      for (;;) {
        const outcome = await postGraphQL(agent, server.url, CREATE, { labels: ['burst'] });
        outcomes.push(outcome);
        if (signalled) answeredAfterSignal.push(outcome);
        if (outcome.kind !== 'answered' || outcome.status !== 200) return;
      }
    };
    let running = 24;
    const callers = Array.from({ length: running }, () => caller().finally(() => running--));
    while (outcomes.length < 200 && running > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(
      outcomes.filter((o) => o.kind !== 'answered' || o.status !== 200),
      'before the signal',
    ).toEqual([]);

    signalled = true;
    server.child.kill('SIGTERM');
    await Promise.all(callers);
    await exited(server);
    agent.destroy();
    expect(server.child.exitCode, server.output()).toBe(0);

    // Every mutation that reached the server was answered: a success, or a coded refusal with nothing done.
    // One whose connection could not be made never reached it. None was cut off.
    expect(outcomes.filter((o) => o.kind === 'cut')).toEqual([]);
    const answered = outcomes.filter((o): o is Extract<Outcome, { kind: 'answered' }> => o.kind === 'answered');
    const refused = answered.filter((o) => o.status !== 200);
    for (const refusal of refused) {
      expect(refusal.status).toBe(503);
      expect(refusal.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
      expect(refusal.connection).toBe('close');
    }
    const succeeded = answered.filter((o) => o.status === 200).map((o) => ok(o.body).createJob.id as string);
    expect(answeredAfterSignal.length, 'requests were still being made when the signal came').toBeGreaterThan(0);

    // Every subscription ended saying where to resume: over SSE an UNAVAILABLE error then `complete`,
    // over graphql-ws an UNAVAILABLE error then the socket closed with 1001, saying so.
    const resumeFrom: string[] = [];
    const delivered: string[][] = [];
    for (const stream of sse) {
      expect(await stream.ended).toBe('ended');
      expect(stream.messages.at(-1)?.event).toBe('complete');
      const last = stream.messages.at(-2)!;
      expect(last.data.errors[0].extensions.code).toBe('UNAVAILABLE');
      const events = stream.messages
        .filter((m) => m.event === 'next' && m.data.data)
        .map((m) => m.data.data.events.position as string);
      expect(last.data.errors[0].extensions.resumeAfter).toBe(events.at(-1));
      resumeFrom.push(last.data.errors[0].extensions.resumeAfter);
      delivered.push(events);
    }
    for (const socket of ws) {
      await socket.ended;
      await socket.whenClosed;
      expect(socket.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
      expect(socket.closed?.code).toBe(1001);
      expect(socket.closed?.reason).toMatch(/shutting down.*resume/);
      const events = socket.payloads.map((p) => p.events.position as string);
      expect(socket.errors![0].extensions.resumeAfter).toBe(events.at(-1));
      resumeFrom.push(socket.errors![0].extensions.resumeAfter);
      delivered.push(events);
      await socket.dispose();
    }

    // After a restart on the same store: the log holds every job answered as created, and no other.
    const next = await processes.start(dbPath);
    const log = await allPositions(next.url);
    const head = log.at(-1)!;
    const jobs = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const page: any = ok(
        await gqlClient(next.url)(
          'query($after: String) { events(first: 1000, after: $after, filter: { category: "job" }) { edges { node { streamId type } } pageInfo { hasNextPage endCursor } } }',
          { after },
        ),
      );
      for (const { node } of page.events.edges)
        if (node.type === 'JobCreated') jobs.add(node.streamId.replace(/^job-/, ''));
      if (!page.events.pageInfo.hasNextPage) break;
      after = page.events.pageInfo.endCursor;
    }
    expect([...jobs].sort()).toEqual([...succeeded].sort());

    // Each subscription, resumed on the new server from where it was told, misses and repeats nothing.
    for (const [i, from] of resumeFrom.entries()) {
      expect([...delivered[i]!, ...(await positionsAfter(next.url, from, head))]).toEqual(log);
    }
  });
});

describe('the order of a shutdown, as seen from outside', () => {
  /**
   * A request in flight that the test finishes when it chooses: its headers and part of its body sent,
   * the rest held back. It asks to continue (Expect: 100-continue), so once the server says `100
   * Continue` it has taken the request. The shutdown waits for it at step 3, where it is observed.
   */
  async function heldRequest(port: number) {
    const body = JSON.stringify({ query: CREATE, variables: { labels: ['held'] } });
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    while (!answer.includes('100 Continue')) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.write(body.slice(0, 10));
    return {
      finish: () => socket.write(body.slice(10)),
      answered: async () => {
        await closed;
        return answer;
      },
    };
  }

  const portOf = (server: ServerProcess) => Number(new URL(server.url).port);

  it('then readiness turns false and the listener closes while a request is in flight, which is answered before subscriptions end and the store closes', async () => {
    const server = await processes.start(processes.freshDb(), { TRIALOG_SHUTDOWN_GRACE_SECONDS: '60' });
    const port = portOf(server);
    const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const apiAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ready = async () => {
      const outcome = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = get(`http://127.0.0.1:${port}/ready`, { agent: probeAgent }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
      });
      return outcome;
    };
    expect((await ready()).status).toBe(200);
    expect((await postGraphQL(apiAgent, server.url, '{ __typename }')).kind).toBe('answered'); // connection kept alive
    const sse = sseSubscription(server.url, ALL_EVENTS);
    await sse.open;
    const held = await heldRequest(port);

    server.child.kill('SIGTERM');
    await outputMatching(server, /shutdown 3\/5: waiting up to 60 s for 1 request in flight/);

    // (1) readiness is false; (2) the listener is closed: a new connection is refused, and a request on a
    // kept-alive one is answered 503 UNAVAILABLE with Connection: close; the subscription is still open.
    const probe = await ready();
    expect(probe.status).toBe(503);
    expect(probe.body.checks.shutdown.ok).toBe(false);
    expect(await postGraphQL(new Agent(), server.url, '{ __typename }')).toEqual({
      kind: 'not-connected',
      code: 'ECONNREFUSED',
    });
    const late = await postGraphQL(apiAgent, server.url, '{ __typename }');
    expect(late).toMatchObject({ kind: 'answered', status: 503, connection: 'close' });
    expect((late as { body: any }).body.errors[0].extensions.code).toBe('UNAVAILABLE');
    expect(sse.messages.some((m) => m.event === 'complete')).toBe(false);

    // (3) the request in flight is answered; then (4) the subscription ends with where to resume; (5) the store closes.
    held.finish();
    const answer = await held.answered();
    expect(answer).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"createJob":{"id":"job_');
    expect(await sse.ended).toBe('ended');
    expect(sse.messages.at(-1)?.event).toBe('complete');
    await exited(server);
    expect(server.child.exitCode, server.output()).toBe(0);
    const steps = [...server.output().matchAll(/shutdown (\d)\/5/g)].map((m) => Number(m[1]));
    expect(steps).toEqual([...steps].sort());
    expect(new Set(steps)).toEqual(new Set([1, 2, 3, 4, 5]));
    probeAgent.destroy();
    apiAgent.destroy();
  });

  it(
    'given a WebSocket that never sent connection_init and never reads, then the shutdown cuts it within its bound and exits',
    { timeout: 20_000 },
    async () => {
      const server = await processes.start(processes.freshDb(), { TRIALOG_SHUTDOWN_GRACE_SECONDS: '1' });
      const port = portOf(server);
      // Upgraded, then silent: it reads nothing (so it never answers a close frame) and sends nothing.
      const silent = connect(port, '127.0.0.1');
      let upgraded = '';
      silent.on('data', (chunk: Buffer) => {
        upgraded += chunk.toString('latin1');
        if (upgraded.includes('\r\n\r\n')) silent.pause();
      });
      silent.write(
        `GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          'Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n',
      );
      while (!upgraded.includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(upgraded).toMatch(/^HTTP\/1.1 101 /);

      server.child.kill('SIGTERM');
      // ws waits 30 s for a close frame the client never sends: the shutdown must not wait for it.
      await exited(server);
      expect(server.child.exitCode, server.output()).toBe(0);
      expect(server.output()).toMatch(/shutdown 4\/5: ending 0 subscriptions \(0 SSE streams, 1 WebSocket\)/);
      silent.destroy();
    },
  );

  it('when a second signal comes while the shutdown waits, then the process exits at once, saying so', async () => {
    const server = await processes.start(processes.freshDb(), { TRIALOG_SHUTDOWN_GRACE_SECONDS: '600' });
    await heldRequest(portOf(server));
    server.child.kill('SIGTERM');
    await outputMatching(server, /shutdown 3\/5: waiting up to 600 s for 1 request in flight/);
    await server.kill('SIGINT');
    expect(server.child.exitCode).toBe(1);
    expect(server.output()).toMatch(/SIGINT again: exiting now/);
  });
});
