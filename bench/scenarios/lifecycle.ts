/**
 * Trial lifecycle: W workers over HTTP, each looping claim -> 10 metric
 * reports -> complete, on a random search with median early stopping. The
 * reports go as one `reportMetrics` batch ('batched') or as 10 `reportMetric`
 * calls ('single'); a report that says shouldStop ends the trial there.
 * The lease token is the server's, or chosen by the worker as `trialog worker`
 * does (which records the claim in the token's own stream as well).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { loopFor, summarize } from '../stats.js';

const CLAIM = `mutation($e: ID, $w: String!, $t: String) { claimJob(input: { workerId: $w, experimentId: $e, leaseToken: $t }) { leaseToken job { id } } }`;
const REPORT_BATCH = `mutation($i: ReportMetricsInput!) { reportMetrics(input: $i) { shouldStop } }`;
const REPORT_ONE = `mutation($i: ReportMetricInput!) { reportMetric(input: $i) { shouldStop } }`;
const COMPLETE = `mutation($i: CompleteJobInput!) { completeJob(input: $i) { id } }`;

export async function trialLifecycle(
  dir: string,
  workers: number,
  reports: 'batched' | 'single',
  seconds: number,
  tokens: 'server' | 'worker' = 'server',
): Promise<ScenarioResult & { requestsPerTrial: number }> {
  const server = await startBenchServer(join(dir, `lifecycle-${workers}-${reports}-${tokens}.db`));
  const { gql, close } = gqlOver(server.url, workers);
  try {
    const experiment = (
      await gql(`mutation { createExperiment(input: {
        name: "bench", objective: { metric: "loss", direction: MINIMIZE },
        scheduler: { random: { seed: 1, space: [{ name: "x", distribution: { uniform: { low: 0, high: 1 } } }] } },
        earlyStopping: { median: {} } }) { id } }`)
    ).createExperiment.id as string;
    const trialMs: number[] = [];
    let requests = 0;
    const memory = server.sampleMemory();
    const cpuBefore = server.cpuMs();
    const { iterations, elapsedSeconds } = await loopFor(seconds, workers, async (w) => {
      const started = performance.now();
      const token = tokens === 'worker' ? randomBytes(32).toString('base64url') : undefined;
      const claim = (await gql(CLAIM, { e: experiment, w: `w${w}`, t: token })).claimJob;
      requests++;
      const lease = { jobId: claim.job.id, leaseToken: claim.leaseToken };
      const losses = Array.from({ length: 10 }, (_, step) => ({
        name: 'loss',
        value: Math.random() + 1 / (step + 1),
        step,
      }));
      let stopped = false;
      if (reports === 'batched') {
        stopped = (await gql(REPORT_BATCH, { i: { ...lease, points: losses } })).reportMetrics.shouldStop;
        requests++;
      } else {
        for (const point of losses) {
          stopped = (await gql(REPORT_ONE, { i: { ...lease, ...point } })).reportMetric.shouldStop;
          requests++;
          if (stopped) break;
        }
      }
      if (!stopped) {
        await gql(COMPLETE, { i: { ...lease, result: { loss: Math.random() } } });
        requests++;
      }
      trialMs.push(performance.now() - started);
    });
    return {
      scenario: `trial lifecycle, ${workers} worker${workers > 1 ? 's' : ''}, ${reports === 'batched' ? 'one reportMetrics' : '10 reportMetric'}${tokens === 'worker' ? ', worker-chosen lease tokens' : ''}`,
      rate: iterations / elapsedSeconds,
      unit: 'trials/s',
      latency: { of: 'trial', summary: summarize(trialMs) },
      peakMiB: memory.stop(),
      serverCpu: { per: 'trial', ms: (server.cpuMs() - cpuBefore) / iterations },
      requestsPerTrial: requests / iterations,
    };
  } finally {
    close();
    await server.stop();
  }
}
