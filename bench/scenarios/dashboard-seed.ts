/**
 * Data for the dashboard scenario, written fast: the experiment is created
 * through the API (so its settings are exactly what the server records), then
 * its trials and a long metric series are written straight into the SQLite
 * store, as an import would, and a server started afterwards catches its read
 * models up on them. Appends are issued without waiting for one another, so
 * the store commits them in batches.
 */
import { createHash, randomUUID } from 'node:crypto';
import { jobData, trialJobId } from '../../src/app/job-ids.js';
import { sampleSpace } from '../../src/domain/experiment/sampling.js';
import type { Parameter } from '../../src/domain/experiment/settings.js';
import type { Json } from '../../src/domain/job/events.js';
import { jobKind } from '../../src/domain/job/kind.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import type { Gql } from '../http.js';

export interface DashboardData {
  /** Finished trials (a few of them pruned), each with a `loss` curve. */
  trials: number;
  /** Points of each finished trial's curve. */
  pointsPerTrial: number;
  /** Trials left RUNNING, with a lease token the bench holds: the live phase reports on them. */
  runningTrials: number;
  /** Points of the long series, on a job of its own. */
  seriesPoints: number;
}

export interface Seeded {
  experimentId: string;
  /** The RUNNING trials' ids; LEASE_TOKEN is their lease. */
  running: string[];
  /** The job holding the long series (metric `loss`). */
  seriesJobId: string;
}

export const LEASE_TOKEN = 'dashboard-bench-lease-token-0123456789abcdef';
export const SERIES_JOB = 'job_dashboard_series';
const POINTS_PER_EVENT = 10_000;
const BATCH = 500;

const SPACE = [
  { name: 'lr', distribution: { logUniform: { low: 0.0001, high: 0.3 } } },
  { name: 'layers', distribution: { intUniform: { low: 1, high: 8 } } },
  { name: 'dropout', distribution: { uniform: { low: 0, high: 0.5 } } },
];

/** Step 1, with the server running: the experiment, through the API. */
export async function createBenchExperiment(
  gql: Gql,
  name: string,
  data: DashboardData,
): Promise<{ id: string; space: Parameter[]; seed: number }> {
  const answer = await gql<{
    createExperiment: { id: string; config: { scheduler: { random: { seed: number; space: Parameter[] } } } };
  }>(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id config } }`, {
    input: {
      name,
      description: `${data.trials.toLocaleString('en-US')} trials of ${data.pointsPerTrial} points (bench)`,
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { random: { seed: 7, maxJobs: data.trials + data.runningTrials + 10, space: SPACE } },
      maxConcurrent: data.runningTrials + 10,
    },
  });
  const { id, config } = answer.createExperiment;
  return { id, space: config.scheduler.random.space, seed: config.scheduler.random.seed };
}

const metadata = (schemaVersion: number) => ({
  actor: 'bench',
  correlationId: 'bench-dashboard',
  causationId: 'bench-dashboard',
  schemaVersion,
});
/** An event in its current version, or in `version` (its upcasters bring it up to date when read). */
const newEvent = (type: string, data: unknown, version = jobKind.eventVersion(type)) => ({
  id: randomUUID(),
  type,
  data,
  metadata: metadata(version),
});

function created(
  jobId: string,
  experimentId: string | null,
  trialIndex: number | null,
  hyperparameters: Record<string, unknown>,
) {
  return newEvent(
    'JobCreated',
    jobData(jobId, { experimentId, hyperparameters: hyperparameters as Record<string, Json>, trialIndex }),
  );
}

const claimed = (leaseSeconds: number) =>
  newEvent('JobClaimed', {
    workerId: 'bench-worker',
    leaseTokenHash: createHash('sha256').update(LEASE_TOKEN).digest('hex'),
    leaseExpiresAt: new Date(Date.now() + leaseSeconds * 1000).toISOString(),
    leaseSeconds,
    attempt: 1,
    takenOverFrom: null,
  });

/** A learning curve shaped by the trial's hyperparameters, with noise: what a leaderboard of real trials looks like. */
function curve(hyperparameters: Record<string, unknown>, points: number, index: number, timestamp: string) {
  const lr = Number(hyperparameters.lr);
  const quality = Math.abs(Math.log10(lr) + 2) + Number(hyperparameters.dropout) + Number(hyperparameters.layers) / 10;
  return Array.from({ length: points }, (_, step) => ({
    name: 'loss',
    step,
    timestamp,
    value: 0.05 + quality / (1 + step / 10) + 0.02 * Math.sin(step * 1.7 + index),
  }));
}

/** Step 2, with no server on the file: every trial and the long series, straight into the store. */
export async function seedDashboardData(
  dbPath: string,
  experiment: { id: string; space: Parameter[]; seed: number },
  data: DashboardData,
): Promise<Seeded> {
  const store = new SqliteEventStore(dbPath, { synchronous: 'NORMAL' });
  const now = new Date().toISOString();
  const running: string[] = [];
  try {
    const total = data.trials + data.runningTrials;
    for (let first = 0; first < total; first += BATCH) {
      const appends: Promise<unknown>[] = [];
      for (let index = first; index < Math.min(total, first + BATCH); index++) {
        const jobId = trialJobId(experiment.id, index);
        const hyperparameters = sampleSpace(experiment.space, experiment.seed, index);
        const isRunning = index >= data.trials;
        const points = curve(hyperparameters, isRunning ? 10 : data.pointsPerTrial, index, now);
        const events = [
          created(jobId, experiment.id, index, hyperparameters),
          claimed(isRunning ? 3600 : 300),
          newEvent('JobMetricsReported', { points }),
        ];
        if (isRunning) running.push(jobId);
        else if (index % 10 === 9) {
          // Every tenth finished trial was pruned: as early stopping leaves them, with a shorter curve.
          events[2] = newEvent('JobMetricsReported', { points: points.slice(0, Math.ceil(data.pointsPerTrial / 4)) });
          events.push(
            newEvent(
              'JobPruned',
              {
                rule: 'median',
                step: Math.ceil(data.pointsPerTrial / 4) - 1,
                value: points[Math.ceil(data.pointsPerTrial / 4) - 1]!.value,
              },
              1,
            ),
          );
        } else
          events.push(newEvent('JobCompleted', { result: { loss: points[points.length - 1]!.value }, artifacts: [] }));
        appends.push(store.appendToStream(`job-${jobId}`, events, { expectedRevision: 'no_stream' }));
      }
      await Promise.all(appends);
    }
    await store.appendToStream(`job-${SERIES_JOB}`, [created(SERIES_JOB, null, null, { lr: 0.01 }), claimed(3600)], {
      expectedRevision: 'no_stream',
    });
    const appends: Promise<unknown>[] = [];
    for (let first = 0; first < data.seriesPoints; first += POINTS_PER_EVENT) {
      const points = Array.from({ length: Math.min(POINTS_PER_EVENT, data.seriesPoints - first) }, (_, i) => {
        const step = first + i;
        // A slow wave with a one-step spike now and then: a downsampled chart must keep the spikes.
        return { name: 'loss', step, timestamp: now, value: 1 + Math.sin(step / 5000) + (step % 99_991 === 0 ? 5 : 0) };
      });
      appends.push(
        store.appendToStream(`job-${SERIES_JOB}`, [newEvent('JobMetricsReported', { points })], {
          expectedRevision: 'any',
        }),
      );
    }
    await Promise.all(appends);
  } finally {
    await store.close();
  }
  return { experimentId: experiment.id, running, seriesJobId: SERIES_JOB };
}
