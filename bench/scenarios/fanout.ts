/**
 * Live fan-out: N graphql-ws subscribers (one WebSocket each, as N
 * dashboards) on `jobStatusChanged`, while jobs change status at a steady
 * rate; every subscriber must see every change. Latency runs from the moment
 * the mutation's answer arrives to the moment each subscriber has the change:
 * negative when the subscriber had it first, as the server publishes a change
 * before it answers. The note gives the time from sending the mutation, which
 * includes the fan-out itself.
 */
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { summarize } from '../stats.js';

export async function liveFanOut(
  dir: string,
  subscribers: number,
  changesPerSecond: number,
  seconds: number,
): Promise<ScenarioResult & { missed: number }> {
  // Every subscriber comes from this one loopback address: lift the per-address cap (100 by default) as an
  // operator would for a dashboard fleet behind one proxy.
  const server = await startBenchServer(join(dir, 'fanout.db'), {
    TRIALOG_MAX_CONNECTIONS_PER_ADDRESS: String(subscribers + 50),
    TRIALOG_MAX_CONNECTIONS: String(subscribers + 100),
  });
  const { gql, close } = gqlOver(server.url, 4);
  const clients: Client[] = [];
  const received = new Map<string, number[]>(); // job id -> arrival times, one per subscriber
  try {
    const ready: Promise<void>[] = [];
    for (let s = 0; s < subscribers; s++) {
      const client = createClient({
        url: server.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(client);
      ready.push(
        new Promise<void>((resolve, reject) => {
          client.on('connected', () => resolve());
          client.on('error', reject);
        }),
      );
      client.subscribe<{ jobStatusChanged: { job: { id: string } } }>(
        { query: 'subscription { jobStatusChanged { job { id } to } }' },
        {
          next: ({ data }) => {
            const id = data!.jobStatusChanged.job.id;
            const times = received.get(id) ?? [];
            times.push(performance.now());
            received.set(id, times);
          },
          error: () => {},
          complete: () => {},
        },
      );
    }
    await Promise.all(ready);
    await new Promise((r) => setTimeout(r, 500)); // every subscription registered on the server
    const sentAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    const memory = server.sampleMemory();
    const total = changesPerSecond * seconds;
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / changesPerSecond;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      const sent = performance.now();
      const { id } = (await gql(`mutation { createJob(input: { labels: ["fanout"] }) { id } }`)).createJob;
      answeredAt.set(id, performance.now());
      sentAt.set(id, sent);
    }
    // Give the last changes time to arrive everywhere.
    const deadline = performance.now() + 10_000;
    while (
      performance.now() < deadline &&
      [...answeredAt.keys()].some((id) => (received.get(id)?.length ?? 0) < subscribers)
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const peakMiB = memory.stop();
    const latencies: number[] = [];
    const fromAnswer: number[] = [];
    let missed = 0;
    for (const [id, at] of answeredAt) {
      const times = received.get(id) ?? [];
      missed += subscribers - times.length;
      for (const t of times) {
        latencies.push(t - sentAt.get(id)!);
        fromAnswer.push(t - at);
      }
    }
    const sent = summarize(latencies);
    return {
      scenario: `live fan-out, ${subscribers} graphql-ws subscribers, ${changesPerSecond} changes/s`,
      rate: latencies.length / seconds,
      unit: 'deliveries/s',
      latency: { of: 'mutation answer -> subscriber', summary: summarize(fromAnswer) },
      peakMiB,
      missed,
      note:
        `${missed} of ${total * subscribers} deliveries missed; from sending the mutation: ` +
        `p50 ${sent.p50.toFixed(1)}, p99 ${sent.p99.toFixed(1)}, max ${sent.max.toFixed(1)} ms`,
    };
  } finally {
    for (const c of clients) void c.dispose();
    close();
    await server.stop();
  }
}
