/**
 * Bounded by design, for jobs: what a job request or command costs depends on
 * what it asks for, not on how much the jobs hold. Each scenario is measured
 * at two data sizes ten times apart, on a fresh server process (nothing
 * cached), by the kernel's peak resident memory of that process.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrialog, type Trialog } from '../../src/trialog.js';
import { jobRepository } from '../../src/app/job-repository.js';
import type { EventStore, ReadStreamOptions } from '../../src/store/port.js';
import { gqlClient, ok, errorCode, tempDir } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { fixedHeap, peakDuring } from '../helpers/memory.js';
import { createdAndClaimed, rawJobEvent } from '../helpers/raw-events.js';
import { readFileSync } from 'node:fs';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';

const context = { actor: 'test', correlationId: 'bounded-jobs' };
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

async function seededStore(seed: (trialog: Trialog) => Promise<void>): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const dbPath = join(dir.path, 'trialog.db');
  const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
  try {
    await seed(trialog);
  } finally {
    await trialog.close();
  }
  return dbPath;
}

/** About `mib` MiB of training data shaped as a classifier's examples. */
function trainingData(mib: number, salt: number): { answer: string; label: number }[] {
  const answer = `${salt}:`.padEnd(96, 'x');
  return Array.from({ length: Math.round((mib * 1024 * 1024) / 120) }, (_, i) => ({ answer, label: i % 7 }));
}

/** Every measured server gets the same fixed heap: one that holds what the store holds dies rather than passes. */
const SERVER_HEAP_MIB = 160;

async function withServer<T>(
  dbPath: string,
  env: Record<string, string>,
  use: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await startServerProcess(dbPath, { ...fixedHeap(SERVER_HEAP_MIB), ...env });
  try {
    return await use(server);
  } finally {
    await server.kill('SIGTERM');
  }
}

const MiB = 1024 * 1024;

describe('jobs that each carry 1 MiB of training data', () => {
  const LIST = `{ jobs(first: 1000) { totalCount edges { node { id status attempts hyperparameters createdAt } } } }`;
  const CLAIM = `mutation($w: String!) { claimJob(input: { workerId: $w }) { leaseToken job { id status } } }`;

  async function measure(jobCount: number) {
    const dbPath = await seededStore(async (trialog) => {
      for (let i = 0; i < jobCount; i++) {
        await trialog.jobCommands.createJob({ hyperparameters: { i }, trainingData: trainingData(1, i) }, context);
      }
    });
    // A small cache bound, so that what the test sees is the bound and not the default's size.
    return withServer(dbPath, { TRIALOG_AGGREGATE_CACHE_BYTES: String(8 * MiB) }, async (server) => {
      const gql = gqlClient(server.url);
      const pid = server.child.pid!;
      const list = await peakDuring(pid, async () => {
        const { jobs } = ok(await gql<{ jobs: { totalCount: number; edges: unknown[] } }>(LIST));
        expect(jobs.edges).toHaveLength(jobCount);
      });
      const claims = await peakDuring(pid, async () => {
        for (let i = 0; i < jobCount; i++) {
          const { claimJob } = ok(await gql<{ claimJob: { job: { status: string } } | null }>(CLAIM, { w: `w${i}` }));
          expect(claimJob?.job.status).toBe('RUNNING');
        }
        ok(await gql(LIST));
      });
      return { list: list.peak, claims: claims.peak };
    });
  }

  it('listing ids and claiming every job cost the same memory with ten times more jobs', async () => {
    const small = await measure(12);
    const large = await measure(120);
    console.log(`1 MiB jobs, peak RSS MiB: 12 jobs ${JSON.stringify(small)}, 120 jobs ${JSON.stringify(large)}`);
    // 108 MiB more training data: a read model or cache that held it would grow by several times that.
    expect(large.list - small.list).toBeLessThan(64);
    expect(large.claims - small.claims).toBeLessThan(64);
    expect(Math.max(large.list, large.claims)).toBeLessThan(400);
  }, 120_000);
});

describe('a chatty job with many megabytes of log', () => {
  const LINE = 'y'.repeat(64_000);
  const BATCH = Array.from({ length: 32 }, () => LINE); // about 2 MiB, as a worker's batch

  async function measure(batches: number) {
    const leaseToken = 'a-lease-token-the-worker-chose-0123456789';
    let jobId = '';
    const dbPath = await seededStore(async (trialog) => {
      jobId = await trialog.jobCommands.createJob({}, context);
      await trialog.jobCommands.claimJob({ workerId: 'w', leaseToken }, context);
      for (let i = 0; i < batches; i++)
        await trialog.jobCommands.appendLog({ jobId, leaseToken, lines: BATCH }, context);
    });
    // A restart: nothing of the job is cached, as after a crash.
    return withServer(dbPath, {}, async (server) => {
      const gql = gqlClient(server.url);
      const pid = server.child.pid!;
      const peaks: Record<string, number> = {};
      const steps: Record<string, () => Promise<void>> = {
        jobAtStart: async () => {
          const { jobAt } = ok(
            await gql<{ jobAt: { status: string } }>(`{ jobAt(id: "${jobId}", revision: 0) { status } }`),
          );
          expect(jobAt.status).toBe('QUEUED');
        },
        pastLog: async () => {
          const { jobAt } = ok(
            await gql<{
              jobAt: { logs: { edges: { node: { offset: number } }[]; pageInfo: { hasNextPage: boolean } } };
            }>(
              `{ jobAt(id: "${jobId}", revision: 3) { logs(first: 100) { edges { node { offset } } pageInfo { hasNextPage } } } }`,
            ),
          );
          // At revision 3 the log had its first two batches: 64 lines, and no more.
          expect(jobAt.logs.edges.map((e) => e.node.offset)).toEqual([...Array(64).keys()]);
          expect(jobAt.logs.pageInfo.hasNextPage).toBe(false);
        },
        logPage: async () => {
          const { job } = ok(
            await gql<{ job: { logs: { edges: unknown[] } } }>(
              `{ job(id: "${jobId}") { logs(first: 10) { edges { node { offset } } } } }`,
            ),
          );
          expect(job.logs.edges).toHaveLength(10);
        },
        heartbeat: async () => {
          ok(
            await gql(
              `mutation($id: ID!, $t: String!) { heartbeat(input: { jobId: $id, leaseToken: $t }) { leaseExpiresAt } }`,
              { id: jobId, t: leaseToken },
            ),
          );
        },
        cancel: async () => {
          const { cancelJob } = ok(
            await gql<{ cancelJob: { status: string } }>(
              `mutation($id: ID!) { cancelJob(input: { jobId: $id }) { status } }`,
              { id: jobId },
            ),
          );
          expect(cancelJob.status).toBe('CANCELLED');
        },
      };
      for (const [name, step] of Object.entries(steps)) peaks[name] = (await peakDuring(pid, step)).peak;
      return peaks;
    });
  }

  it('time travel, a page of its log, a heartbeat and a cancel cost the same memory with ten times more log', async () => {
    const small = await measure(6);
    const large = await measure(60);
    console.log(
      `chatty job, peak RSS MiB: 12 MiB of log ${JSON.stringify(small)}, 120 MiB of log ${JSON.stringify(large)}`,
    );
    for (const step of Object.keys(small)) {
      // Reading the job's stream whole would add its 108 extra MiB several times over.
      expect(large[step]! - small[step]!, step).toBeLessThan(48);
      expect(large[step]!, step).toBeLessThan(400);
    }
  }, 120_000);
});

describe('a server starting on a log of megabyte events it has not projected yet', () => {
  /** A job's events written straight into the store, as an import leaves them: no read model yet. */
  async function unprojectedChattyLog(batches: number): Promise<string> {
    const dir = tempDir();
    dirs.push(dir);
    const dbPath = join(dir.path, 'trialog.db');
    const store = new SqliteEventStore(dbPath, { synchronous: 'NORMAL' });
    const lines = Array.from({ length: 32 }, () => 'q'.repeat(64_000));
    try {
      await store.appendToStream('job-job_unprojected', createdAndClaimed('job_unprojected'));
      for (let i = 0; i < batches; i++) {
        await store.appendToStream('job-job_unprojected', [
          rawJobEvent('JobLogAppended', { stream: 'STDOUT', firstOffset: i * 32, lines }),
        ]);
      }
    } finally {
      await store.close();
    }
    return dbPath;
  }

  const peakSinceStart = (pid: number) =>
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

  it('catches its read models up holding a batch of events, not the log', async () => {
    // A heap smaller than the larger log: a catch-up that held the log could not finish in it.
    const measure = async (batches: number) =>
      withServer(await unprojectedChattyLog(batches), fixedHeap(96), async (server) => {
        const { job } = ok(
          await gqlClient(server.url)<{ job: { logs: { edges: unknown[] } } }>(
            `{ job(id: "job_unprojected") { logs(first: 5, after: "${batches * 32 - 6}") { edges { node { offset } } } } }`,
          ),
        );
        expect(job.logs.edges).toHaveLength(5);
        return peakSinceStart(server.child.pid!);
      });
    const small = await measure(6);
    const large = await measure(60);
    console.log(
      `start-up catch-up, peak RSS MiB since start: 12 MiB of log ${small.toFixed(0)}, 120 MiB of log ${large.toFixed(0)}`,
    );
    expect(large - small).toBeLessThan(80);
    expect(large).toBeLessThan(400);
  }, 120_000);
});

describe('loading a job for a command', () => {
  /** The real store, with every stream read it serves written down. */
  function recordingReads(store: EventStore): { store: EventStore; reads: ReadStreamOptions[] } {
    const reads: ReadStreamOptions[] = [];
    const recording = Object.create(store) as EventStore;
    // Cast: the port's readStream is overloaded (whole events, or parts of them).
    recording.readStream = ((streamId: string, options: ReadStreamOptions = {}) => {
      reads.push(options);
      return store.readStream(streamId, options);
    }) as EventStore['readStream'];
    return { store: recording, reads };
  }

  it('starts from the read model’s fold of the job and reads only the events after it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const trialog = await openTrialog({
      dbPath: join(dir.path, 't.db'),
      eventStoreUrl: undefined,
      synchronous: 'NORMAL',
    });
    try {
      const leaseToken = 'token-for-the-fold-test-0123456789abcdef';
      const jobId = await trialog.jobCommands.createJob({ trainingData: [{ a: 1 }] }, context);
      await trialog.jobCommands.claimJob({ workerId: 'w', leaseToken }, context);
      for (let i = 0; i < 40; i++)
        await trialog.jobCommands.appendLog({ jobId, leaseToken, lines: [`line ${i}`] }, context);

      const { store, reads } = recordingReads(trialog.store);
      const cold = jobRepository(store, { queries: trialog.jobQueries });
      const loaded = await cold.load(jobId);

      expect(loaded.revision).toBe(41n);
      expect(loaded.state?.nextLogOffset).toBe(40);
      // A decision never reads the training data: a command does not parse it.
      expect(loaded.state?.trainingData).toBeUndefined();
      expect(loaded.lastEventId).toBe(trialog.jobQueries.snapshot(jobId)!.lastEventId);
      // One header read checks the stream agrees with the row; then only what follows it.
      expect(reads).toEqual([
        { fromRevision: 41n, maxCount: 1, withData: false, withMetadata: false },
        { fromRevision: 42n, maxCount: expect.any(Number) },
      ]);
    } finally {
      await trialog.close();
    }
  });

  it('sets aside a read-model row the stream does not agree with, and folds the stream instead', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const trialog = await openTrialog({
      dbPath: join(dir.path, 't.db'),
      eventStoreUrl: undefined,
      synchronous: 'NORMAL',
    });
    try {
      const leaseToken = 'token-for-the-tamper-test-0123456789abcd';
      const jobId = await trialog.jobCommands.createJob({}, context);
      await trialog.jobCommands.claimJob({ workerId: 'w', leaseToken }, context);
      // As if the read models had been built from another store: a row whose last event is not the stream's.
      trialog.readDb
        .prepare(
          "UPDATE jobs SET last_event_id = 'another-store', state = json_set(state, '$.status', 'QUEUED') WHERE id = ?",
        )
        .run(jobId);

      const { store, reads } = recordingReads(trialog.store);
      const loaded = await jobRepository(store, { queries: trialog.jobQueries }).load(jobId);

      expect(loaded.state?.status).toBe('RUNNING');
      expect(reads.map((read) => read.fromRevision)).toEqual([1n, 0n]);
    } finally {
      await trialog.close();
    }
  });

  it('without a read model, folds the stream a page at a time', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const trialog = await openTrialog({
      dbPath: join(dir.path, 't.db'),
      eventStoreUrl: undefined,
      synchronous: 'NORMAL',
    });
    try {
      const leaseToken = 'token-for-the-page-test-0123456789abcdef';
      const jobId = await trialog.jobCommands.createJob({}, context);
      await trialog.jobCommands.claimJob({ workerId: 'w', leaseToken }, context);
      for (let i = 0; i < 40; i++)
        await trialog.jobCommands.appendLog({ jobId, leaseToken, lines: [`line ${i}`] }, context);

      const { store, reads } = recordingReads(trialog.store);
      const loaded = await jobRepository(store).load(jobId);

      expect(loaded.state?.nextLogOffset).toBe(40);
      expect(reads.length).toBeGreaterThan(2);
      for (const read of reads) expect(read.maxCount).toBeLessThanOrEqual(16);
    } finally {
      await trialog.close();
    }
  });

  it('keeps a stale lease fenced after a restart, when the job is loaded from the read model', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const dbPath = join(dir.path, 't.db');
    const first = 'the-first-workers-token-0123456789abcdef';
    const second = 'the-second-workers-token-0123456789abcde';
    let jobId: string;
    let trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
    try {
      jobId = await trialog.jobCommands.createJob({}, context);
      await trialog.jobCommands.claimJob({ workerId: 'w1', leaseToken: first, leaseSeconds: 1 }, context);
    } finally {
      await trialog.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
    try {
      const taken = await trialog.jobCommands.claimJob({ workerId: 'w2', leaseToken: second }, context);
      expect(taken?.jobId).toBe(jobId);
      await expect(
        trialog.jobCommands.appendLog({ jobId, leaseToken: first, lines: ['stale'] }, context),
      ).rejects.toMatchObject({
        code: 'LEASE_LOST',
      });
      expect(trialog.jobQueries.logLines(jobId, -1, 10)).toEqual([]);
    } finally {
      await trialog.close();
    }
  });
});

describe('read models of an older shape', () => {
  it('stop a running server from applying once another version has rebuilt them, and its mutations fail', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const trialog = await openTrialog({
      dbPath: join(dir.path, 't.db'),
      eventStoreUrl: undefined,
      synchronous: 'NORMAL',
    });
    try {
      await trialog.jobCommands.createJob({}, context);
      // What another Trialog of another version leaves: its version, its (empty) tables, no checkpoint.
      trialog.readDb.exec(
        'UPDATE read_model_version SET version = 99; DELETE FROM jobs; DELETE FROM projection_checkpoints',
      );

      await expect(trialog.jobCommands.createJob({}, context)).rejects.toThrow(/version 99/);
      expect(trialog.readDb.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual({ n: 0 });
      expect(trialog.readDb.prepare('SELECT count(*) AS n FROM projection_checkpoints').get()).toEqual({ n: 0 });
    } finally {
      await trialog.close().catch(() => {});
    }
  });

  it('are dropped and rebuilt from the log at start, and the jobs read as before', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const dbPath = join(dir.path, 't.db');
    const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
    const jobId = await trialog.jobCommands.createJob({ trainingData: { rows: [1, 2, 3] }, labels: ['gpu'] }, context);
    // As an older Trialog left it: a jobs table without this version's columns, and an older version number.
    trialog.readDb.exec('ALTER TABLE jobs DROP COLUMN last_event_id; UPDATE read_model_version SET version = 1');
    await trialog.close();

    const server = await startServerProcess(dbPath);
    try {
      const gql = gqlClient(server.url);
      const { job } = ok(
        await gql<{ job: { labels: string[]; trainingData: unknown } }>(
          `{ job(id: "${jobId}") { labels trainingData } }`,
        ),
      );
      expect(job).toEqual({ labels: ['gpu'], trainingData: { rows: [1, 2, 3] } });
      expect(errorCode(await gql(`mutation { cancelJob(input: { jobId: "${jobId}" }) { status } }`))).toBeUndefined();
    } finally {
      await server.kill('SIGTERM');
    }
  });
});
