/**
 * `npx tsx bench/bucket-reads.ts [points] [reads] [--reads-only]`: what a downsampled read of
 * a large series costs, and what keeping its block summaries costs ingestion
 * (issue 14: "a 1,000,000-point series: first chart in at most 1 s, a zoom in
 * at most 300 ms").
 *
 * 1. Writes a job of `points` points (default 1,000,000, reports of 1,000
 *    points) straight into a SQLite event store and times the projection
 *    building its read models (metric points, series index, blocks): wall
 *    and CPU time (the CPU time is steadier on a shared machine).
 * 2. Starts a real server (src/main.ts in its own process) on it and times
 *    `buckets(count: 600)` over HTTP over the whole series, a 40% zoom and a
 *    5% zoom, `reads` times each (default 7): median and max, and the server
 *    process's CPU time per read (from /proc).
 * 3. Measures the server's CPU time per `reportMetrics` of 1,000 points, and
 *    runs the bench's metric ingestion scenario (4 workers, 8 s; wall time,
 *    so on a shared machine it moves with the load).
 *
 * Not part of `npm run bench`: a focused before/after measurement.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChattyJobs } from '../test/helpers/metric-log.js';
import { gqlOver } from './http.js';
import { metricIngestion } from './scenarios/ingestion.js';
import { startBenchServer } from './server.js';
import { summarize } from './stats.js';

const POINTS = Number(process.argv[2] ?? 1_000_000);
const READS = Number(process.argv[3] ?? 7);
/** `--reads-only`: skip the ingestion scenario. */
const readsOnly = process.argv.includes('--reads-only');
const INGESTION_REPORTS = 300;
const JOB = 'job_bucket_reads';
const log = (message: string) => console.error(`[bucket-reads] ${message}`);

/** CPU time (user + system) a process has used, in ms: on a shared machine, steadier than wall time. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** One job of POINTS steps of `loss`, with a spike every 9,973 steps; answers how long building its read models took. */
async function writeSeries(path: string): Promise<{ projectionMs: number; projectionCpuMs: number }> {
  const value = (step: number) => (step % 9973 === 0 ? 1000 : 1 / (1 + step / 1000));
  const { rebuildMs, rebuildCpuMs } = await writeChattyJobs(path, [
    { jobId: JOB, points: POINTS, spikeStep: 0, value },
  ]);
  return { projectionMs: rebuildMs, projectionCpuMs: rebuildCpuMs };
}

/**
 * The server's CPU time per 1,000 points reported: one worker sends `INGESTION_REPORTS` reports of 1,000
 * points (two series, as the ingestion scenario sends them), one after another.
 */
async function ingestionCpu(path: string): Promise<void> {
  const server = await startBenchServer(path);
  const { gql, close } = gqlOver(server.url, 1);
  try {
    await gql(`mutation { createJob(input: { labels: ["cpu"] }) { id } }`);
    const claim = (
      await gql(`mutation { claimJob(input: { workerId: "w", labels: ["cpu"] }) { leaseToken job { id } } }`)
    ).claimJob;
    const report = (n: number) =>
      gql(`mutation($i: ReportMetricsInput!) { reportMetrics(input: $i) { shouldStop } }`, {
        i: {
          jobId: claim.job.id,
          leaseToken: claim.leaseToken,
          sequence: n + 1,
          points: Array.from({ length: 1000 }, (_, i) => ({
            name: i % 2 ? 'loss' : 'accuracy',
            value: Math.random(),
            step: n * 1000 + i,
          })),
        },
      });
    for (let n = 0; n < 20; n++) await report(n); // warm-up
    const before = cpuMsOf(server.pid);
    for (let n = 20; n < 20 + INGESTION_REPORTS; n++) await report(n);
    const perReport = (cpuMsOf(server.pid) - before) / INGESTION_REPORTS;
    console.log(
      `reportMetrics of 1,000 points (${INGESTION_REPORTS} reports, 1 worker): server CPU ${perReport.toFixed(1)} ms per report`,
    );
  } finally {
    close();
    await server.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trialog-bucket-reads-'));
try {
  log(`${cpus().length} cores (${cpus()[0]?.model}), node ${process.version}`);
  log(`writing a job of ${POINTS.toLocaleString('en')} points`);
  const { projectionMs, projectionCpuMs } = await writeSeries(join(dir, 'reads.db'));
  console.log(
    `read models of ${POINTS.toLocaleString('en')} points built from the log (reports of 1,000): ${(projectionMs / 1000).toFixed(2)} s, ` +
      `${(projectionCpuMs / 1000).toFixed(2)} s of CPU, ${Math.round(POINTS / (projectionCpuMs / 1000)).toLocaleString('en')} points per CPU second`,
  );

  const server = await startBenchServer(join(dir, 'reads.db'));
  const { gql, close } = gqlOver(server.url, 1);
  try {
    const query = `query($id: ID!, $from: Int, $to: Int) { job(id: $id) { metrics(names: ["loss"]) {
      buckets(count: 600, fromStep: $from, toStep: $to) { fromStep toStep count min max last { step value } } } } }`;
    const ranges = {
      'whole series': {},
      '40% zoom': { from: Math.floor(POINTS * 0.3), to: Math.floor(POINTS * 0.7) - 1 },
      '5% zoom': { from: Math.floor(POINTS * 0.5), to: Math.floor(POINTS * 0.55) - 1 },
    };
    for (const [label, range] of Object.entries(ranges)) {
      const ms: number[] = [];
      let buckets = 0;
      const cpuBefore = cpuMsOf(server.pid);
      for (let i = 0; i < READS; i++) {
        const started = performance.now();
        const answer = await gql(query, { id: JOB, ...range });
        ms.push(performance.now() - started);
        buckets = answer.job.metrics[0].buckets.length;
      }
      const cpu = (cpuMsOf(server.pid) - cpuBefore) / READS;
      const { p50, max } = summarize(ms);
      console.log(
        `buckets(count: 600), ${label}: ${buckets} buckets, median ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms ` +
          `over ${READS} reads; server CPU ${cpu.toFixed(0)} ms per read`,
      );
    }
  } finally {
    close();
    await server.stop();
  }

  if (!readsOnly) {
    await ingestionCpu(join(dir, 'cpu.db'));
    const ingestion = await metricIngestion(dir, 4, 8);
    console.log(
      `${ingestion.scenario}: ${Math.round(ingestion.rate).toLocaleString('en')} ${ingestion.unit}, ` +
        `request p50 ${ingestion.latency!.summary.p50.toFixed(1)} ms, p99 ${ingestion.latency!.summary.p99.toFixed(1)} ms`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
