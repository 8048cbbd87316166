/**
 * Bounded by design, for `experimentJobsChanged`: what a change costs the
 * server does not depend on how many jobs its experiment has. An experiment of
 * N and one of 10N jobs, each job carrying 32 KiB of hyperparameters (so the
 * experiment's job states are 3 MiB and 31 MiB), each served by a fresh server
 * process with a fixed heap, measured by the kernel's peak resident memory of
 * that process while a subscriber is sent as many changes at either size, each
 * with its job's hyperparameters:
 * - resuming from a position, the creations of the experiment's last N jobs
 *   (the backlog, read from the log);
 * - then live, 100 changes of one of the experiment's jobs.
 * An implementation that read the experiment's jobs for each change would hold
 * 31 MiB of job states (about twice that parsed) at the larger size, each time.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrialog } from '../../src/trialog.js';
import { HEARTBEAT, claim } from '../helpers/jobs.js';
import { peakDuring } from '../helpers/memory.js';
import { withFixedHeapServer } from '../helpers/process.js';
import { collect, gqlClient, ok, tempDir, wsClient } from '../helpers/server.js';

const context = { actor: 'test', correlationId: 'experiment-jobs-changed-memory' };
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

const HYPERPARAMETER_BYTES = 32 * 1024;
/**
 * Small enough that a server holding the larger experiment's job states (31 MiB
 * as stored, about twice that parsed) for a change has little room left, and
 * collects garbage before its heap grows far, so the peak follows what is held.
 */
const SERVER_HEAP_MIB = 96;
const LIVE_CHANGES = 100;

const CHANGES = `subscription($id: ID!, $after: String) {
  experimentJobsChanged(experimentId: $id, after: $after) { position type job { id status hyperparameters } }
}`;
type Message = { experimentJobsChanged: { type: string; job: { id: string; status: string } } };

/** The changes resumed over at either size: the creations of the experiment's last this many jobs. */
const RESUMED_JOBS = 100;

/** A store with one experiment of `jobCount` queued jobs; answers where the log stood before its last RESUMED_JOBS. */
async function seededStore(jobCount: number): Promise<{ dbPath: string; experimentId: string; before: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const dbPath = join(dir.path, 'trialog.db');
  const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
  try {
    const experimentId = await trialog.experimentCommands.createExperiment(
      { name: 'wide', scheduler: { manual: {} } },
      context,
    );
    // Keyed jobs take no trial slot, so fifty at a time are written side by side (one commit).
    const create = (i: number) =>
      trialog.jobCommands.createJob(
        {
          experimentId,
          idempotencyKey: `seed-${i}`,
          hyperparameters: { i, notes: `${i}:`.padEnd(HYPERPARAMETER_BYTES, 'h') },
        },
        context,
      );
    const createRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 50)
        await Promise.all(Array.from({ length: Math.min(50, to - i) }, (_, k) => create(i + k)));
    };
    await createRange(0, jobCount - RESUMED_JOBS);
    const before = (await trialog.store.headPosition())!;
    await createRange(jobCount - RESUMED_JOBS, jobCount);
    return { dbPath, experimentId, before };
  } finally {
    await trialog.close();
  }
}

async function measure(jobCount: number): Promise<{ live: number; backlog: number }> {
  const { dbPath, experimentId, before } = await seededStore(jobCount);
  return withFixedHeapServer(dbPath, SERVER_HEAP_MIB, async (server) => {
    const client = wsClient(server.url);
    try {
      const gql = gqlClient(server.url);
      const pid = server.child.pid!;
      // Resumed from a position: the last RESUMED_JOBS jobs' creations, from the log.
      const backlog = collect<Message>(
        client,
        CHANGES,
        { id: experimentId, after: before },
        (items) => items.length >= RESUMED_JOBS,
      );
      const backlogStep = await peakDuring(pid, () => backlog.done);
      expect(backlog.items.every((m) => m.experimentJobsChanged.type === 'JobCreated')).toBe(true);
      expect(new Set(backlog.items.map((m) => m.experimentJobsChanged.job.id)).size).toBe(RESUMED_JOBS);

      const lease = { jobId: '', leaseToken: '' };
      const claimed = (await claim(gql, { workerId: 'w', experimentId }))!;
      Object.assign(lease, { jobId: claimed.job.id, leaseToken: claimed.leaseToken });

      // Live: the subscriber is live once the first heartbeat reaches it; then 100 more changes, each delivered.
      const live = collect<Message>(client, CHANGES, { id: experimentId }, (items) => items.length >= LIVE_CHANGES + 1);
      for (let i = 0; i < 200 && live.items.length === 0; i++) {
        ok(await gql(HEARTBEAT, { input: lease }));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const heartbeatsBefore = live.items.length;
      const liveStep = await peakDuring(pid, async () => {
        for (let i = heartbeatsBefore; i < LIVE_CHANGES + 1; i++) ok(await gql(HEARTBEAT, { input: lease }));
        await live.done;
      });
      expect(
        live.items.every(
          (m) => m.experimentJobsChanged.type === 'JobHeartbeat' && m.experimentJobsChanged.job.id === lease.jobId,
        ),
      ).toBe(true);

      return { live: liveStep.peak, backlog: backlogStep.peak };
    } finally {
      await client.dispose();
    }
  });
}

describe('a subscriber to the changes of an experiment of N and of 10N jobs', () => {
  it('costs the server the same memory whether the experiment has 100 jobs or 1,000', async () => {
    const small = await measure(RESUMED_JOBS);
    const large = await measure(RESUMED_JOBS * 10);
    console.log(
      `experimentJobsChanged, server peak RSS MiB (heap ${SERVER_HEAP_MIB} MiB): ${RESUMED_JOBS} jobs ${JSON.stringify(small)}, ${RESUMED_JOBS * 10} jobs ${JSON.stringify(large)}`,
    );
    // The larger experiment holds 28 MiB more job states: read per change, they would add that at least.
    expect(large.live - small.live).toBeLessThan(16);
    expect(large.backlog - small.backlog).toBeLessThan(16);
  }, 120_000);
});
