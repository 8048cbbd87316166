/**
 * Scale: the same typical requests at data sizes one order of magnitude
 * apart. At every size the store holds jobs with 1 MiB of training data each,
 * one running job with a long log, one with many metric points, and a log of
 * many events; a fresh server process starts on it (catching its read models
 * up), answers a fixed set of requests, and its peak memory is sampled
 * throughout. What a request costs should depend on what it asks for, not on
 * how much is stored: the targets are a peak under 400 MB at every size and
 * each request's median within 2x of the smallest size's.
 *
 * Data is written straight into the SQLite store (as an import would), each
 * size adding to the last, so the largest size is written once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { jobKind } from '../../src/domain/job/kind.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { summarize } from '../stats.js';

export interface ScaleSize {
  /** Jobs with 1 MiB of training data each. */
  trainingJobs: number;
  /** MiB of log lines in the chatty job. */
  logMiB: number;
  /** Metric points in the points job. */
  points: number;
  /** Events in the whole log, at least (filled with small finished jobs of 100 events: at least 100 of them, so a page of 100 jobs is full at every size). */
  events: number;
}

export const SCALE_SIZES: ScaleSize[] = [
  { trainingJobs: 10, logMiB: 20, points: 20_000, events: 10_000 },
  { trainingJobs: 100, logMiB: 200, points: 200_000, events: 100_000 },
  { trainingJobs: 1000, logMiB: 2048, points: 2_000_000, events: 1_000_000 },
];
export const QUICK_SCALE_SIZES: ScaleSize[] = [
  { trainingJobs: 2, logMiB: 2, points: 2_000, events: 10_000 },
  { trainingJobs: 20, logMiB: 20, points: 20_000, events: 100_000 },
];

const CHATTY = 'job_scale_chatty';
const POINTS = 'job_scale_points';
const LEASE_TOKEN = 'scale-bench-lease-token-0123456789abcdef';
const LINE = 'z'.repeat(64_000);
const LOG_BATCH_LINES = 32; // about 2 MiB per event, a worker's batch
const POINTS_PER_EVENT = 10_000; // the most one reportMetrics takes
const MEDIAN_OF = 7;
/**
 * The server runs with a fixed V8 heap, as README's memory model suggests for
 * a server that must stay within a budget: V8 otherwise grows the heap as far
 * as the machine allows before it collects, so the peak would measure its
 * collector's timing rather than what Trialog holds.
 */
export const SCALE_SERVER_HEAP_MIB = 256;

const metadata = (type: string) => ({
  actor: 'bench',
  correlationId: 'bench-scale',
  causationId: 'bench-scale',
  schemaVersion: jobKind.eventVersion(type),
});
const newEvent = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: metadata(type) });
const far = () => new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();

function created(jobId: string, trainingData: unknown) {
  return newEvent('JobCreated', {
    jobId,
    experimentId: null,
    hyperparameters: { lr: 0.01 },
    params: {},
    algorithmId: null,
    algorithmVersion: null,
    trainingData,
    priority: 0,
    labels: [],
    maxAttempts: 3,
    idempotencyKey: null,
    generation: 0,
    parentId: null,
    trialIndex: null,
    decision: null,
  });
}

const claimed = () =>
  newEvent('JobClaimed', {
    workerId: 'bench',
    leaseTokenHash: createHash('sha256').update(LEASE_TOKEN).digest('hex'),
    leaseExpiresAt: far(),
    leaseSeconds: 300,
    attempt: 1,
    takenOverFrom: null,
  });

/** Where the store stands, so each size appends only what the previous one lacked. */
interface Written {
  trainingJobs: number;
  logEvents: number;
  pointEvents: number;
  fillerJobs: number;
  events: number;
}

/** Each size's claims and cancels each take one queued 1 MiB job: the store keeps that many more than the size. */
const spareJobs = (sizeIndex: number) => 2 * MEDIAN_OF * (sizeIndex + 1);

async function grow(dbPath: string, size: ScaleSize, sizeIndex: number, written: Written): Promise<void> {
  const store = new SqliteEventStore(dbPath, { synchronous: 'NORMAL' });
  const append = async (streamId: string, events: ReturnType<typeof newEvent>[]) => {
    await store.appendToStream(streamId, events, { expectedRevision: 'any' });
    written.events += events.length;
  };
  try {
    if (written.events === 0) {
      await append(`job-${CHATTY}`, [created(CHATTY, null), claimed()]);
      await append(`job-${POINTS}`, [created(POINTS, null), claimed()]);
    }
    const example = { answer: 'y'.repeat(96), label: 1 };
    const trainingData = Array.from({ length: Math.round((1024 * 1024) / 120) }, () => example);
    for (; written.trainingJobs < size.trainingJobs + spareJobs(sizeIndex); written.trainingJobs++) {
      await append(`job-job_scale_td${written.trainingJobs}`, [
        created(`job_scale_td${written.trainingJobs}`, trainingData),
      ]);
    }
    const lines = Array.from({ length: LOG_BATCH_LINES }, () => LINE);
    const logEvents = Math.ceil((size.logMiB * 1024 * 1024) / (LOG_BATCH_LINES * LINE.length));
    for (; written.logEvents < logEvents; written.logEvents++) {
      const firstOffset = written.logEvents * LOG_BATCH_LINES;
      await append(`job-${CHATTY}`, [newEvent('JobLogAppended', { stream: 'STDOUT', firstOffset, lines })]);
    }
    const now = new Date().toISOString();
    for (; written.pointEvents < size.points / POINTS_PER_EVENT; written.pointEvents++) {
      const first = written.pointEvents * POINTS_PER_EVENT;
      const points = Array.from({ length: POINTS_PER_EVENT }, (_, i) => ({
        name: 'loss',
        step: first + i,
        value: Math.sin((first + i) / 1000) + ((first + i) % 9973 === 0 ? 10 : 0),
        timestamp: now,
      }));
      await append(`job-${POINTS}`, [newEvent('JobMetricsReported', { points })]);
    }
    // Small finished jobs of 100 events each fill the log up to its size.
    while (written.events < size.events) {
      const jobId = `job_scale_filler${written.fillerJobs++}`;
      await append(`job-${jobId}`, [
        created(jobId, null),
        claimed(),
        ...Array.from({ length: 97 }, (_, step) =>
          newEvent('JobMetricsReported', { points: [{ name: 'loss', step, value: 1 / (step + 1), timestamp: now }] }),
        ),
        newEvent('JobCompleted', { result: { loss: 0.01 }, artifacts: [] }),
      ]);
    }
  } finally {
    await store.close();
  }
}

type Gql = ReturnType<typeof gqlOver>['gql'];

/** The fixed set of typical requests. Each answers how long one call took, in ms. */
function typicalRequests(gql: Gql, url: string, sizeIndex: number): Record<string, () => Promise<void>> {
  let claims = 0;
  let cancels = 0;
  return {
    'list jobs (first 100, ids and statuses)': async () => {
      await gql(`{ jobs(first: 100) { totalCount edges { node { id status } } } }`);
    },
    'one job with 1 MiB of training data (no training data asked)': async () => {
      await gql(`{ job(id: "job_scale_td0") { id status hyperparameters attempts } }`);
    },
    'heartbeat on the chatty job': async () => {
      await gql(
        `mutation($t: String!) { heartbeat(input: { jobId: "${CHATTY}", leaseToken: $t }) { leaseExpiresAt } }`,
        { t: LEASE_TOKEN },
      );
    },
    'claim a 1 MiB job': async () => {
      const answer = await gql<{ claimJob: { job: { id: string } } | null }>(
        `mutation($w: String!) { claimJob(input: { workerId: $w }) { job { id } } }`,
        { w: `bench-${sizeIndex}-${claims++}` },
      );
      if (!answer.claimJob) throw new Error('nothing to claim');
    },
    'cancel a queued 1 MiB job': async () => {
      const { jobs } = await gql<{ jobs: { edges: { node: { id: string } }[] } }>(
        `{ jobs(filter: { status: [QUEUED] }, first: 1) { edges { node { id } } } }`,
      );
      const id = jobs.edges[0]?.node.id;
      if (!id) throw new Error(`nothing to cancel (${cancels})`);
      cancels++;
      await gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { status } }`, { id });
    },
    'jobAt the chatty job, revision 2, with a page of its log': async () => {
      await gql(`{ jobAt(id: "${CHATTY}", revision: 2) { status logs(first: 20) { edges { node { offset } } } } }`);
    },
    'metrics: last of a series': async () => {
      await gql(`{ job(id: "${POINTS}") { metrics(names: ["loss"]) { name last { step value } } } }`);
    },
    'metrics: 500 buckets of a series': async () => {
      await gql(
        `{ job(id: "${POINTS}") { metrics(names: ["loss"]) { buckets(count: 500) { min max last { step value } } } } }`,
      );
    },
    'a page of 100 events (types)': async () => {
      await gql(`{ events(first: 100) { edges { node { type position } } } }`);
    },
    'a page of 100 events with their data': async () => {
      await gql(`{ events(first: 100, filter: { category: "job" }) { edges { node { type data } } } }`);
    },
    'a subscriber catching up on the first 1,000 events': () => catchUp(url, 1000),
  };
}

/** A graphql-ws subscriber to the audit log from its start, until it has `count` events. */
function catchUp(url: string, count: number): Promise<void> {
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
  });
  return new Promise<void>((resolve, reject) => {
    let seen = 0;
    const stop = client.subscribe(
      { query: 'subscription { events { type position } }' },
      {
        next: () => {
          if (++seen === count) {
            stop();
            resolve();
          }
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => (seen >= count ? resolve() : reject(new Error(`the subscription ended after ${seen} events`))),
      },
    );
  }).finally(() => void client.dispose());
}

interface SizeResult {
  size: ScaleSize;
  startMs: number;
  /** Since the process started: the catch-up at start and every request. */
  peakMiB: number;
  /** The catch-up at start alone (the peak when the server began to serve). */
  startPeakMiB: number;
  medians: Record<string, number>;
  /** Each request's own peak (the high-water mark reset before it). */
  peaks: Record<string, number>;
}

export async function scale(
  dir: string,
  sizes: readonly ScaleSize[],
  log: (message: string) => void,
): Promise<ScenarioResult[]> {
  const dbPath = join(dir, 'scale.db');
  const written: Written = { trainingJobs: 0, logEvents: 0, pointEvents: 0, fillerJobs: 0, events: 0 };
  const results: SizeResult[] = [];
  for (const [index, size] of sizes.entries()) {
    log(`scale: writing size ${index + 1} of ${sizes.length} (${describe(size)})`);
    await grow(dbPath, size, index, written);
    const server = await startBenchServer(dbPath, {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${SCALE_SERVER_HEAP_MIB}`.trim(),
    });
    const { gql, close } = gqlOver(server.url, 4);
    try {
      const startPeakMiB = server.peakSinceStartMiB();
      const medians: Record<string, number> = {};
      const peaks: Record<string, number> = {};
      for (const [name, request] of Object.entries(typicalRequests(gql, server.url, index))) {
        const samples: number[] = [];
        server.resetPeak();
        for (let i = 0; i < MEDIAN_OF; i++) {
          const started = performance.now();
          await request();
          samples.push(performance.now() - started);
        }
        medians[name] = summarize(samples).p50;
        peaks[name] = server.peakSinceStartMiB();
      }
      const peakMiB = Math.max(startPeakMiB, ...Object.values(peaks));
      results.push({ size, startMs: server.startMs, peakMiB, startPeakMiB, medians, peaks });
    } finally {
      close();
      await server.stop();
    }
  }
  return rows(results);
}

function describe(size: ScaleSize): string {
  return (
    `${size.trainingJobs} jobs of 1 MiB training data, ${size.logMiB} MiB of log in one job, ` +
    `${size.points.toLocaleString('en-US')} points in one job, ${size.events.toLocaleString('en-US')}+ events`
  );
}

function rows(results: SizeResult[]): ScenarioResult[] {
  const smallest = results[0]!;
  const largest = results[results.length - 1]!;
  const peaks = results.map((r) => Math.round(r.peakMiB));
  const out: ScenarioResult[] = [
    {
      scenario:
        `scale: server peak memory at each size, V8 heap fixed at ${SCALE_SERVER_HEAP_MIB} MiB ` +
        `(${results.map((r) => describe(r.size)).join(' / ')})`,
      rate: Math.max(...peaks),
      unit: 'MiB at most',
      peakMiB: Math.max(...results.map((r) => r.peakMiB)),
      target: { text: 'peak < 400 MB at every size', met: results.every((r) => r.peakMiB * 1.048576 < 400) },
      note:
        `peaks ${peaks.join(' / ')} MiB; start to serving (catching up on what was added) ` +
        `${results.map((r) => `${(r.startMs / 1000).toFixed(1)} s, ${Math.round(r.startPeakMiB)} MiB`).join(' / ')}`,
    },
  ];
  for (const name of Object.keys(smallest.medians)) {
    const medians = results.map((r) => r.medians[name]!);
    // Below 2 ms a median is loopback and scheduler noise: it counts as 2 ms.
    const ratio = Math.max(largest.medians[name]!, 2) / Math.max(smallest.medians[name]!, 2);
    out.push({
      scenario: `scale: ${name}`,
      rate: largest.medians[name]!,
      unit: 'ms median at the largest size',
      target: { text: 'within 2x of the smallest size', met: ratio <= 2 },
      peakMiB: Math.max(...results.map((r) => r.peaks[name]!)),
      note:
        `medians ${medians.map((m) => m.toFixed(1)).join(' / ')} ms; largest / smallest ${ratio.toFixed(2)}; ` +
        `peak ${results.map((r) => Math.round(r.peaks[name]!)).join(' / ')} MiB`,
    });
  }
  return out;
}
