/**
 * Log streaming: a worker appends batches of log lines to its job while one
 * subscriber (graphql-ws) follows it, line by line (`jobLogs`: a message per
 * line) or append by append (`jobLogBatches`: a message per batch). Lines per
 * second appended, and delivered (up to the moment the subscriber has the
 * last line).
 */
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { loopFor, summarize } from '../stats.js';

const LINES_PER_CALL = 1000;

/** Who follows the log while it is written: nobody, a `jobLogs` subscriber, or a `jobLogBatches` one. */
export type LogSubscriber = 'none' | 'jobLogs' | 'jobLogBatches';

const FOLLOW: Record<Exclude<LogSubscriber, 'none'>, { query: string; lines: (data: any) => number }> = {
  jobLogs: { query: 'subscription($j: ID!) { jobLogs(jobId: $j) { offset } }', lines: () => 1 },
  jobLogBatches: {
    query: 'subscription($j: ID!) { jobLogBatches(jobId: $j) { lines { offset } } }',
    lines: (data) => data.jobLogBatches.lines.length,
  },
};

export async function logStreaming(
  dir: string,
  seconds: number,
  subscriber: LogSubscriber,
): Promise<ScenarioResult & { delivered: number; appended: number; appendCalls: number; elapsedSeconds: number }> {
  const server = await startBenchServer(join(dir, 'logs.db'));
  const { gql, close } = gqlOver(server.url, 2);
  const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    await gql(`mutation { createJob(input: { labels: ["logs"] }) { id } }`);
    const claim = (
      await gql(`mutation { claimJob(input: { workerId: "w", labels: ["logs"] }) { leaseToken job { id } } }`)
    ).claimJob;
    let delivered = 0;
    let lastDeliveredAt = 0;
    const started = performance.now();
    const follow = subscriber === 'none' ? undefined : FOLLOW[subscriber];
    if (follow)
      client.subscribe(
        { query: follow.query, variables: { j: claim.job.id } },
        {
          next: (result) => {
            delivered += follow.lines(result.data);
            lastDeliveredAt = performance.now();
          },
          error: () => {},
          complete: () => {},
        },
      );
    await new Promise((r) => setTimeout(r, 300));
    const ms: number[] = [];
    let sequence = 0;
    const line = `step 000000 loss 0.123456 accuracy 0.987654 lr 0.000300 ${'-'.repeat(40)}`;
    const lines = Array.from({ length: LINES_PER_CALL }, () => line);
    const memory = server.sampleMemory();
    const cpuBefore = server.cpuMs();
    const appendStart = performance.now();
    const { iterations, elapsedSeconds } = await loopFor(seconds, 1, async () => {
      const t0 = performance.now();
      await gql(`mutation($i: AppendLogInput!) { appendLog(input: $i) { nextOffset } }`, {
        i: { jobId: claim.job.id, leaseToken: claim.leaseToken, lines, sequence: ++sequence },
      });
      ms.push(performance.now() - t0);
    });
    const appended = iterations * LINES_PER_CALL;
    const deadline = performance.now() + 30_000;
    while (follow && delivered < appended && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const peakMiB = memory.stop();
    // Until every line was delivered (or the deadline): a subscriber's cost is paid as it is sent.
    const cpuMs = server.cpuMs() - cpuBefore;
    const deliverySeconds = (lastDeliveredAt - Math.max(started, appendStart)) / 1000;
    return {
      scenario: `log streaming, appendLog of ${LINES_PER_CALL} lines, ${follow ? `one ${subscriber} subscriber` : 'no subscriber'}`,
      rate: appended / elapsedSeconds,
      unit: 'lines/s appended',
      latency: { of: 'appendLog request', summary: summarize(ms) },
      peakMiB,
      serverCpu: { per: '1,000 lines', ms: (cpuMs / appended) * 1000 },
      delivered,
      appended,
      appendCalls: iterations,
      elapsedSeconds,
      note: follow
        ? `${delivered} of ${appended} lines delivered, ${Math.round(delivered / deliverySeconds)} lines/s`
        : 'appends alone',
    };
  } finally {
    await client.dispose();
    close();
    await server.stop();
  }
}
