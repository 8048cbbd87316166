/**
 * /health (liveness) and /ready (readiness), as an orchestrator probes them:
 * by address, without a key.
 */
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeReadiness, type LagReading } from '../../src/http/health.js';
import { createJob } from '../helpers/jobs.js';
import { serverProcessesPerTest, type ServerProcess } from '../helpers/process.js';
import { gqlClient, ok, startTestServer, type TestServer } from '../helpers/server.js';
import { readModelPathOf } from '../../src/read-model-db.js';

const processes = serverProcessesPerTest();
const ADMIN_KEY = 'k'.repeat(40);

/** One request as a probe sends it: the Host it names, no key, no body unless given. */
function probe(port: number, path: string, options: { method?: string; host?: string; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${port}` },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const portOf = (server: ServerProcess) => Number(new URL(server.url).port);

describe('given a server that requires keys and answers only to its public name', () => {
  let server: ServerProcess;
  beforeEach(async () => {
    server = await processes.start(processes.freshDb(), {
      TRIALOG_ADMIN_KEY: ADMIN_KEY,
      TRIALOG_ALLOWED_HOSTS: 'trialog.example.com',
    });
  });

  it('when probed by its address without a key, then /health answers 200 and /ready 200 with every check passed', async () => {
    const podAddress = `10.1.2.3:${portOf(server)}`;
    const health = await probe(portOf(server), '/health', { host: podAddress });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
    expect(health.headers['cache-control']).toBe('no-store');

    const ready = await probe(portOf(server), '/ready', { host: podAddress });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({
      status: 'ready',
      checks: {
        shutdown: { ok: true },
        store: { ok: true },
        projections: { ok: true, state: 'running' },
        lag: { ok: true, behindSeconds: 0, maxSeconds: 30 },
      },
    });
    // No CORS header: another web page cannot read it.
    expect(ready.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('then the API itself is still behind the perimeter and the key: the same address is refused at /graphql', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const byAddress = await probe(portOf(server), '/graphql', {
      method: 'POST',
      host: `10.1.2.3:${portOf(server)}`,
      body,
    });
    expect(byAddress.status).toBe(403);
    const noKey = await probe(portOf(server), '/graphql', { method: 'POST', host: 'trialog.example.com', body });
    expect(noKey.status).toBe(401);
  });

  it('when a probe uses HEAD, then it gets the status alone; any other method gets 405', async () => {
    const head = await probe(portOf(server), '/ready', { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
    const post = await probe(portOf(server), '/health', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});

describe('given a server whose read models stop for good', () => {
  it('when another version of Trialog has rebuilt its read models and an event is written, then /ready answers 503 naming the runner while /health still answers 200', async () => {
    const dbPath = processes.freshDb();
    const server = await processes.start(dbPath);
    const gql = gqlClient(server.url);
    await createJob(gql, { labels: ['before'] });
    expect((await probe(portOf(server), '/ready')).status).toBe(200);

    // What a server of another read-model version does to the shared file when it starts: the runner
    // here must not apply the log to tables it no longer owns, and stops.
    const db = new Database(readModelPathOf(dbPath));
    db.prepare('UPDATE read_model_version SET version = version + 1').run();
    db.close();
    const refused = await gql('mutation { createJob(input: { labels: ["after"] }) { id } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');

    const ready = await probe(portOf(server), '/ready');
    expect(ready.status).toBe(503);
    const body = JSON.parse(ready.text);
    expect(body.status).toBe('not ready');
    expect(body.checks.projections).toEqual({
      ok: false,
      state: 'failed',
      reason: expect.stringMatching(/stopped on an error/),
    });
    expect(body.checks.store).toEqual({ ok: true });
    expect((await probe(portOf(server), '/health')).status).toBe(200);
  });
});

describe('yoga answers no health check of its own', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  it('when a path merely ends with /health, then yoga does not answer it 200 (it used to answer any such URL)', async () => {
    for (const path of ['/graphql/health', '/anything/health']) {
      const answer = await probe(t.server.port, path);
      expect(answer.headers['x-yoga-id'], path).toBeUndefined();
      expect(answer.status, path).not.toBe(200);
    }
    expect((await probe(t.server.port, '/health')).status).toBe(200);
  });

  it('when the runner has caught up, then lag() says so from the store head it read', async () => {
    ok(await t.gql('mutation { createJob(input: { labels: ["lag"] }) { id } }'));
    const lag = await t.trialog.runner.lag();
    expect(lag.state).toBe('running');
    expect(lag.headPosition).toBe(await t.trialog.store.headPosition());
    expect(lag.appliedPosition).toBe(lag.headPosition);
    expect(lag.behindSeconds).toBe(0);
  });
});

describe('the readiness verdict', () => {
  const running = (behindSeconds: number): LagReading => ({ lag: { state: 'running', behindSeconds } });
  const judge = (reading: LagReading, shuttingDown = false) =>
    judgeReadiness(reading, shuttingDown, { maxLagSeconds: 30, storeTimeoutMs: 2000 });

  it('is ready with a running runner within the lag bound, at the bound included', () => {
    expect(judge(running(0)).status).toBe('ready');
    expect(judge(running(30)).status).toBe('ready');
  });

  it('is not ready past the lag bound, naming the lag and the bound', () => {
    const verdict = judge(running(30.5));
    expect(verdict.status).toBe('not ready');
    expect(verdict.checks.lag).toMatchObject({ ok: false, behindSeconds: 30.5, maxSeconds: 30 });
  });

  it('is not ready while shutting down, saying so', () => {
    const verdict = judge(running(0), true);
    expect(verdict.status).toBe('not ready');
    expect(verdict.checks.shutdown).toEqual({ ok: false, reason: 'the server is shutting down' });
  });

  for (const state of ['starting', 'stopped'] as const) {
    it(`is not ready while the projection runner is ${state}, naming its state`, () => {
      const verdict = judge({ lag: { state, behindSeconds: 0 } });
      expect(verdict.status).toBe('not ready');
      expect(verdict.checks.projections).toMatchObject({ ok: false, state });
    });
  }

  it('is not ready when the store does not answer: the store and the lag fail, the runner does not', () => {
    const verdict = judge({ failed: 'timeout', state: 'running' });
    expect(verdict.status).toBe('not ready');
    expect(verdict.checks.store).toEqual({ ok: false, reason: 'no answer within 2000 ms' });
    expect(verdict.checks.lag.ok).toBe(false);
    expect(verdict.checks.projections.ok).toBe(true);
  });
});
