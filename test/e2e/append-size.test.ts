/**
 * The store's largest append (TRIALOG_MAX_APPEND_BYTES; EventStoreDB's MaxAppendSize, 1 MiB by default):
 * a change larger than it is refused with TOO_LARGE before anything is written, and a worker whose log
 * batches are larger splits them instead of losing lines. Run on a real server process over SQLite with a
 * small maximum, which is what a server on EventStoreDB does at 1 MiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendBytes, eventBytes } from '../../src/store/append-size.js';
import { runMain, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { gqlClient, ok, tempDir, type Gql } from '../helpers/server.js';
import { BEHAVE_SCRIPT, PYTHON, startWorker } from '../helpers/worker.js';

const MAX = 64 * 1024;

describe('the size of an append, as EventStoreDB counts it', () => {
  it('counts the UTF-8 bytes of the data and metadata as JSON, and two bytes per character of the type', () => {
    // '{"a":"é"}' is 10 bytes (é takes two), '{}' 2, and the type "type" 4 characters: 10 + 2 + 8.
    expect(eventBytes({ type: 'type', data: { a: 'é' }, metadata: {} })).toBe(20);
    expect(
      appendBytes([
        { type: 'type', data: { a: 'é' }, metadata: {} },
        { type: 'T', data: null, metadata: { x: 1 } },
      ]),
    ).toBe(20 + 4 + 7 + 2);
  });
});

describe(`a server whose store takes at most ${MAX} bytes in one append`, () => {
  let server: ServerProcess;
  let gql: Gql;
  let dir: { path: string; remove(): void };

  beforeAll(async () => {
    dir = tempDir();
    server = await startServerProcess(`${dir.path}/trialog.db`, { TRIALOG_MAX_APPEND_BYTES: String(MAX) });
    gql = gqlClient(server.url);
  }, 60_000);
  afterAll(async () => {
    await server?.kill('SIGTERM');
    dir?.remove();
  });

  const eventCount = async () =>
    ok(await gql(`{ events(first: 1000) { edges { node { id } } } }`)).events.edges.length as number;

  it('given a claimed job, when appendLog sends more than the store takes, then it is TOO_LARGE with the limit, and the log stays empty', async () => {
    const { createJob } = ok(await gql(`mutation { createJob(input: { labels: ["size-log"] }) { id } }`));
    const { claimJob } = ok(
      await gql(`mutation { claimJob(input: { workerId: "w", labels: ["size-log"] }) { leaseToken job { id } } }`),
    );
    const before = await eventCount();
    const lines = Array.from({ length: 40 }, (_, i) => `${i} ${'x'.repeat(2000)}`);
    const answer = await gql(`mutation($i: AppendLogInput!) { appendLog(input: $i) { nextOffset } }`, {
      i: { jobId: createJob.id, leaseToken: claimJob.leaseToken, lines },
    });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_LARGE', maxBytes: MAX });
    expect(answer.errors?.[0]?.message).toMatch(/nothing was written/);
    expect(await eventCount()).toBe(before);
    const job = ok(
      await gql(`query($id: ID!) { job(id: $id) { logs(first: 10) { edges { node { offset } } } } }`, {
        id: createJob.id,
      }),
    ).job;
    expect(job.logs.edges).toEqual([]);
  });

  it('given training data for two states, the second too large for one append, when createTrainingJobs runs, then it is TOO_LARGE and nothing is written', async () => {
    ok(
      await gql(
        `mutation { registerAlgorithm(input: { interactionId: "size-i", algorithmId: "a", algorithmVersion: 1 }) { algorithmId } }`,
      ),
    );
    const before = await eventCount();
    const states = [
      { stateName: 'small', interactionId: 'size-i', trainingData: { rows: 'x'.repeat(1000) } },
      { stateName: 'large', interactionId: 'size-i', trainingData: { rows: 'x'.repeat(MAX) } },
    ];
    const answer = await gql(`mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName } }`, {
      i: { entityId: 'size-e', entityVersion: 1, states },
    });
    expect(answer.errors?.[0]?.extensions?.code).toBe('TOO_LARGE');
    expect(await eventCount()).toBe(before);
    const mapping = ok(
      await gql(`{ mapping(entityId: "size-e", entityVersion: 1, stateName: "small") { stateName } }`),
    ).mapping;
    expect(mapping).toBeNull();
  });

  it(
    'given a command printing 100 lines of 2 KiB (batches of 200 KiB), when a worker runs it, then every line is recorded, in order',
    { timeout: 90_000 },
    async () => {
      const { createJob } = ok(
        await gql(`mutation($p: JSONObject) { createJob(input: { labels: ["size-worker"], params: $p }) { id } }`, {
          p: { mode: 'big-lines', lines: 100, bytes: 2048 },
        }),
      );
      const work = tempDir('trialog-worker-');
      try {
        const worker = startWorker(
          server.url,
          [
            '--work-dir',
            `${work.path}/runs`,
            '--labels',
            'size-worker',
            '--max-jobs',
            '1',
            '--',
            PYTHON,
            BEHAVE_SCRIPT,
          ],
          { cwd: work.path },
        );
        expect(await worker.exit, worker.output()).toBe(0);
      } finally {
        work.remove();
      }
      const job = ok(
        await gql(`query($id: ID!) { job(id: $id) { status logs(first: 1000) { edges { node { text } } } } }`, {
          id: createJob.id,
        }),
      ).job;
      expect(job.status).toBe('SUCCEEDED');
      expect(job.logs.edges.map((e: { node: { text: string } }) => e.node.text.slice(0, 5))).toEqual(
        Array.from({ length: 100 }, (_, i) => String(i).padStart(5, '0')),
      );
    },
  );
});

describe('TRIALOG_MAX_APPEND_BYTES', () => {
  it('given a value that is not a whole number, when the server starts, then it exits 2 with one line naming it', async () => {
    const dir = tempDir();
    try {
      const { exit, output } = runMain({ TRIALOG_DB: `${dir.path}/t.db`, TRIALOG_MAX_APPEND_BYTES: '1MiB' });
      expect(await exit).toBe(2);
      expect(output().trim().split('\n')).toEqual([
        expect.stringMatching(/TRIALOG_MAX_APPEND_BYTES must be a whole number/),
      ]);
    } finally {
      dir.remove();
    }
  }, 60_000);
});
