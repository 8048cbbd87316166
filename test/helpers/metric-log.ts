/**
 * Writes jobs with many metric points straight into a SQLite event store (as
 * `bench/scenarios/replay.ts` does: the events a worker's reports would have
 * written, without a server in the way), then builds the read models with the
 * real projections, so a server started on the file serves them at once.
 */
import { randomUUID } from 'node:crypto';
import { jobKind } from '../../src/domain/job/kind.js';
import { openReadModelDb, readModelPathOf } from '../../src/read-model-db.js';
import { jobData } from '../../src/app/job-ids.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { readModelProjections } from '../../src/trialog.js';
import { rebuildReadModels } from '../../projections/rebuild.js';

const POINTS_PER_REPORT = 1000;
const REPORTS_PER_APPEND = 50;

/** The value of the chatty series at a step: a slow decay with a spike of 1000 at `spikeStep`. */
export const chattyValue = (step: number, spikeStep: number) => (step === spikeStep ? 1000 : 1 / (1 + step / 1000));

/** A job to write: `points` steps of `loss`, valued by `value` (default: `chattyValue` with its spike at `spikeStep`). */
export interface ChattyJob {
  jobId: string;
  points: number;
  spikeStep: number;
  value?: (step: number) => number;
}

/** Writes the jobs, then builds the read models; answers how long that build took (wall and CPU ms), for the bench. */
export async function writeChattyJobs(
  path: string,
  jobs: ChattyJob[],
): Promise<{ rebuildMs: number; rebuildCpuMs: number }> {
  const store = new SqliteEventStore(path, { synchronous: 'NORMAL' });
  const metadata = (type: string) => ({
    actor: 'test',
    correlationId: 'test',
    causationId: 'test',
    schemaVersion: jobKind.eventVersion(type),
  });
  const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: metadata(type) });
  try {
    for (const { jobId, points, spikeStep, value = (step: number) => chattyValue(step, spikeStep) } of jobs) {
      const streamId = `job-${jobId}`;
      const now = new Date().toISOString();
      let revision = -1;
      const append = async (events: ReturnType<typeof event>[]) => {
        await store.appendToStream(streamId, events, {
          expectedRevision: revision < 0 ? 'no_stream' : BigInt(revision),
        });
        revision += events.length;
      };
      await append([
        event('JobCreated', jobData(jobId, {})),
        event('JobClaimed', {
          workerId: 'w',
          leaseTokenHash: 'h',
          leaseExpiresAt: now,
          leaseSeconds: 300,
          attempt: 1,
          takenOverFrom: null,
        }),
      ]);
      let batch: ReturnType<typeof event>[] = [];
      for (let from = 0; from < points; from += POINTS_PER_REPORT) {
        const report = [];
        for (let step = from; step < Math.min(points, from + POINTS_PER_REPORT); step++) {
          report.push({ name: 'loss', step, value: value(step), timestamp: now });
        }
        batch.push(event('JobMetricsReported', { points: report }));
        if (batch.length === REPORTS_PER_APPEND) {
          await append(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await append(batch);
    }
    const started = performance.now();
    const cpu = process.cpuUsage();
    // Where a server on this store keeps them (src/read-model-db.ts), so it starts on them caught up.
    const readDb = openReadModelDb(readModelPathOf(path));
    try {
      await rebuildReadModels(store, readDb, readModelProjections, { pageSize: 50 });
    } finally {
      readDb.close();
    }
    const used = process.cpuUsage(cpu);
    return { rebuildMs: performance.now() - started, rebuildCpuMs: (used.user + used.system) / 1000 };
  } finally {
    await store.close();
  }
}
