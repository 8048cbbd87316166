/**
 * Metric ingestion: workers each holding a job send `reportMetrics` batches
 * of 1,000 points, one after another, numbered as the worker numbers them.
 */
import { join } from 'node:path';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { loopFor, summarize } from '../stats.js';

const BATCH = 1000;

export async function metricIngestion(
  dir: string,
  workers: number,
  seconds: number,
): Promise<ScenarioResult & { requests: number; elapsedSeconds: number }> {
  const server = await startBenchServer(join(dir, 'ingestion.db'));
  const { gql, close } = gqlOver(server.url, workers);
  try {
    const leases: { jobId: string; leaseToken: string; sequence: number; step: number }[] = [];
    for (let w = 0; w < workers; w++) {
      await gql(`mutation { createJob(input: { labels: ["ingest"] }) { id } }`);
      const claim = (
        await gql(
          `mutation($w: String!) { claimJob(input: { workerId: $w, labels: ["ingest"] }) { leaseToken job { id } } }`,
          { w: `w${w}` },
        )
      ).claimJob;
      leases.push({ jobId: claim.job.id, leaseToken: claim.leaseToken, sequence: 0, step: 0 });
    }
    const ms: number[] = [];
    const memory = server.sampleMemory();
    const cpuBefore = server.cpuMs();
    const { iterations, elapsedSeconds } = await loopFor(seconds, workers, async (w) => {
      const lease = leases[w]!;
      const first = lease.step;
      lease.step += BATCH;
      const points = Array.from({ length: BATCH }, (_, i) => ({
        name: i % 2 ? 'loss' : 'accuracy',
        value: Math.random(),
        step: first + i,
      }));
      const started = performance.now();
      await gql(`mutation($i: ReportMetricsInput!) { reportMetrics(input: $i) { shouldStop } }`, {
        i: { jobId: lease.jobId, leaseToken: lease.leaseToken, points, sequence: ++lease.sequence },
      });
      ms.push(performance.now() - started);
    });
    return {
      scenario: `metric ingestion, ${workers} workers, batches of ${BATCH} points`,
      rate: (iterations * BATCH) / elapsedSeconds,
      unit: 'points/s',
      latency: { of: 'request', summary: summarize(ms) },
      peakMiB: memory.stop(),
      serverCpu: { per: '1,000 points', ms: ((server.cpuMs() - cpuBefore) / (iterations * BATCH)) * 1000 },
      requests: iterations,
      elapsedSeconds,
    };
  } finally {
    close();
    await server.stop();
  }
}
