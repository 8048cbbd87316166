/**
 * The typed client against a real server: its documents fit the schema, the
 * server's refusals arrive as typed errors and are not retried, network
 * failures are retried until the server is back, and a followed log resumes
 * after a restart without losing or repeating a line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LeaseLostError,
  NetworkError,
  NotFoundError,
  TrialogApiError,
  TrialogClient,
  hasCode,
  type LogLine,
} from '../../src/client/client.js';
import { documents } from '../../src/client/operations.js';
import { startServer } from '../../src/server.js';
import { openTrialog } from '../../src/trialog.js';
import { freePort, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const schema = buildSchema(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));

describe('the client documents', () => {
  for (const [name, document] of Object.entries(documents)) {
    it(`${name} is valid against the printed schema`, () => {
      expect(validate(schema, parse(document)).map((e) => e.message)).toEqual([]);
    });
  }
});

describe('answers and errors', () => {
  let t: TestServer;
  let client: TrialogClient;
  beforeAll(async () => {
    t = await startTestServer();
    client = new TrialogClient({ url: t.url });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  it('given a queued job, when a worker claims, heartbeats, reports and completes it, then each call answers its typed shape', async () => {
    const created = await client.createJob({ hyperparameters: { lr: 0.1 }, labels: ['client'] });
    const claim = (await client.claimJob({ workerId: 'w', labels: ['client'], leaseSeconds: 60 }))!;
    expect(claim.job).toMatchObject({ id: created.id, hyperparameters: { lr: 0.1 }, attempts: 1, parent: null });
    const lease = { jobId: created.id, leaseToken: claim.leaseToken };
    expect(await client.heartbeat({ ...lease, progress: 0.5 })).toMatchObject({ cancelRequested: false });
    expect(await client.reportMetrics({ ...lease, points: [{ name: 'loss', value: 1 }], sequence: 1 })).toEqual({
      shouldStop: false,
    });
    expect(await client.appendLog({ ...lease, lines: ['a', 'b'], sequence: 1 })).toEqual({
      firstOffset: 0,
      nextOffset: 2,
    });
    // A resend under the same sequence number writes nothing and answers as the first did.
    expect(await client.appendLog({ ...lease, lines: ['a', 'b'], sequence: 1 })).toEqual({
      firstOffset: 0,
      nextOffset: 2,
    });
    expect((await client.completeJob({ ...lease, result: { loss: 1 } })).status).toBe('SUCCEEDED');
    expect((await client.job(created.id))!.metrics).toEqual([
      { name: 'loss', last: expect.objectContaining({ step: 0, value: 1 }) },
    ]);
  });

  it("given a claim sent twice with the worker's own lease token (the first answer lost), then both answers name the same job", async () => {
    const first = await client.createJob({ labels: ['resent'] });
    const second = await client.createJob({ labels: ['resent'] });
    const leaseToken = 'a-worker-chosen-token-of-at-least-32-characters';
    const claims = await Promise.all([
      client.claimJob({ workerId: 'w-resend', labels: ['resent'], leaseToken }),
      client.claimJob({ workerId: 'w-resend', labels: ['resent'], leaseToken }),
    ]);
    const again = await client.claimJob({ workerId: 'w-resend', labels: ['resent'], leaseToken });
    expect(claims.map((c) => c!.job.id)).toEqual([first.id, first.id]);
    expect(again!.job.id).toBe(first.id);
    expect(again!.leaseToken).toBe(leaseToken);
    // Another token takes the next job.
    expect(
      (await client.claimJob({ workerId: 'w-resend', labels: ['resent'], leaseToken: `${leaseToken}-2` }))!.job.id,
    ).toBe(second.id);
    expect(
      hasCode(
        await client.claimJob({ workerId: 'w', labels: ['resent'], leaseToken: 'short' }).catch((e: unknown) => e),
        'BAD_USER_INPUT',
      ),
    ).toBe(true);
  });

  it('given a stale lease token, when the worker reports, then LeaseLostError with its contract code, and no retry', async () => {
    const created = await client.createJob({ labels: ['stale'] });
    await client.claimJob({ workerId: 'w', labels: ['stale'] });
    const retries: number[] = [];
    const error = await client
      .reportMetric(
        { jobId: created.id, leaseToken: 'not-the-token', name: 'loss', value: 1 },
        { retry: { onRetry: (_e, n) => retries.push(n) } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(hasCode(error, 'LEASE_LOST')).toBe(true);
    expect(retries).toEqual([]);
  });

  it('given no such job, when it is cancelled, then NotFoundError; when it is read, then null', async () => {
    const error = await client.cancelJob({ jobId: 'job_missing' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as TrialogApiError).code).toBe('NOT_FOUND');
    expect(await client.job('job_missing')).toBeNull();
  });

  it('given bad input, then a typed BAD_USER_INPUT error', async () => {
    const error = await client.claimJob({ workerId: 'w', leaseSeconds: -1 }).catch((e: unknown) => e);
    expect(hasCode(error, 'BAD_USER_INPUT')).toBe(true);
  });
});

describe('network failures', () => {
  it('given nothing listening, when a call is made with a short retry budget, then NetworkError after several tries', async () => {
    const port = await freePort();
    const retries: number[] = [];
    const client = new TrialogClient({
      url: `http://127.0.0.1:${port}/graphql`,
      retry: { maxRetryTime: 600, minDelay: 20, onRetry: (_e, n) => retries.push(n) },
    });
    const error = await client.jobs().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(retries.length).toBeGreaterThan(1);
  });

  it('given the server down, when a call is made and the server comes up, then the call succeeds', async () => {
    const dir = tempDir();
    const port = await freePort();
    const client = new TrialogClient({
      url: `http://127.0.0.1:${port}/graphql`,
      retry: { minDelay: 50, maxDelay: 200 },
    });
    let retried = 0;
    const call = client.jobs({}, { retry: { onRetry: () => void retried++ } });
    await new Promise((r) => setTimeout(r, 300));
    const trialog = await openTrialog({
      dbPath: join(dir.path, 't.db'),
      eventStoreUrl: undefined,
      synchronous: 'FULL',
    });
    const server = await startServer(trialog, { port, host: '127.0.0.1' });
    try {
      expect((await call).totalCount).toBe(0);
      expect(retried).toBeGreaterThan(0);
    } finally {
      await client.close();
      await server.close();
      await trialog.close();
      dir.remove();
    }
  });

  it('given a followed log, when the server restarts on the same store, then the follower resumes after the last line: none lost, none repeated', async () => {
    const dir = tempDir();
    const dbPath = join(dir.path, 't.db');
    const port = await freePort();
    const open = async () => {
      const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'FULL' });
      return { trialog, server: await startServer(trialog, { port, host: '127.0.0.1' }) };
    };
    let running = await open();
    const client = new TrialogClient({ url: `http://127.0.0.1:${port}/graphql` });
    try {
      const created = await client.createJob({ labels: ['follow'] });
      const claim = (await client.claimJob({ workerId: 'w', labels: ['follow'] }))!;
      const lease = { jobId: created.id, leaseToken: claim.leaseToken };
      await client.appendLog({ ...lease, lines: ['one', 'two'] });

      const seen: LogLine[] = [];
      let resubscribed = 0;
      const abort = new AbortController();
      const following = (async () => {
        for await (const line of client.followLogs(created.id, undefined, {
          signal: abort.signal,
          onResubscribe: () => void resubscribed++,
        })) {
          seen.push(line);
          if (seen.length === 5) abort.abort();
        }
      })();
      await until(() => seen.length === 2);

      await running.server.close();
      await running.trialog.close();
      running = await open();
      await client.appendLog({ ...lease, lines: ['three', 'four', 'five'] });
      await following;
      expect(seen.map((l) => [l.offset, l.text])).toEqual([
        [0, 'one'],
        [1, 'two'],
        [2, 'three'],
        [3, 'four'],
        [4, 'five'],
      ]);
      expect(resubscribed).toBeGreaterThan(0);
    } finally {
      await client.close();
      await running.server.close();
      await running.trialog.close();
      dir.remove();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
