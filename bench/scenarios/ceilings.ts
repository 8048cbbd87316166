/**
 * The ceilings the other scenarios are held against, measured in the same
 * run: what the HTTP layer alone can answer (a trivial query through the same
 * yoga setup), and what the disk alone can make durable (single-event
 * appends straight to the SQLite store, each its own fsync'd transaction).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';
import { loopFor, summarize } from '../stats.js';

export async function trivialQueryCeiling(dir: string, clients: number, seconds: number): Promise<ScenarioResult> {
  const server = await startBenchServer(join(dir, 'ceiling-http.db'));
  const { gql, close } = gqlOver(server.url, clients);
  try {
    const ms: number[] = [];
    const memory = server.sampleMemory();
    const { iterations, elapsedSeconds } = await loopFor(seconds, clients, async () => {
      const started = performance.now();
      await gql('{ __typename }');
      ms.push(performance.now() - started);
    });
    return {
      scenario: `ceiling: trivial query ({ __typename }), ${clients} clients`,
      rate: iterations / elapsedSeconds,
      unit: 'requests/s',
      latency: { of: 'request', summary: summarize(ms) },
      peakMiB: memory.stop(),
    };
  } finally {
    close();
    await server.stop();
  }
}

export async function durableAppendCeiling(dir: string, seconds: number): Promise<ScenarioResult> {
  const store = new SqliteEventStore(join(dir, 'ceiling-store.db'), { synchronous: 'FULL' });
  try {
    const ms: number[] = [];
    let n = 0;
    const { iterations, elapsedSeconds } = await loopFor(seconds, 1, async () => {
      const started = performance.now();
      await store.appendToStream(
        `ceiling-${n++}`,
        [
          {
            id: randomUUID(),
            type: 'Appended',
            data: { n },
            metadata: { actor: 'bench', correlationId: 'bench', causationId: 'bench', schemaVersion: 1 },
          },
        ],
        {
          expectedRevision: 'no_stream',
        },
      );
      ms.push(performance.now() - started);
    });
    return {
      scenario: 'ceiling: durable single-event appends to the SQLite store (synchronous=FULL)',
      rate: iterations / elapsedSeconds,
      unit: 'appends/s',
      latency: { of: 'append', summary: summarize(ms) },
    };
  } finally {
    await store.close();
  }
}
