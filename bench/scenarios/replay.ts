/**
 * Replay: a 1,000,000-event log (10,000 jobs of 100 events: created,
 * claimed, 97 metric reports, completed) is rebuilt into fresh read models;
 * then a server starts on it, first from nothing (it catches up) and again
 * with its read models checkpointed. Held against the store's own read rate.
 */
import { jobData } from '../../src/app/job-ids.js';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobKind } from '../../src/domain/job/kind.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer } from '../server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const EVENTS_PER_JOB = 100;

export async function writeLog(path: string, events: number): Promise<number> {
  const store = new SqliteEventStore(path, { synchronous: 'NORMAL' });
  const started = performance.now();
  const metadata = (type: string) => ({
    actor: 'bench',
    correlationId: 'bench',
    causationId: 'bench',
    schemaVersion: jobKind.eventVersion(type),
  });
  try {
    for (let j = 0; j < events / EVENTS_PER_JOB; j++) {
      const jobId = `job_bench${j}`;
      const now = new Date().toISOString();
      const log = [
        {
          type: 'JobCreated',
          data: jobData(jobId, { hyperparameters: { lr: 0.01 * (j % 10) } }),
        },
        {
          type: 'JobClaimed',
          data: {
            workerId: 'w',
            leaseTokenHash: 'h',
            leaseExpiresAt: now,
            leaseSeconds: 300,
            attempt: 1,
            takenOverFrom: null,
          },
        },
        ...Array.from({ length: EVENTS_PER_JOB - 3 }, (_, step) => ({
          type: 'JobMetricsReported',
          data: { points: [{ name: 'loss', step, value: 1 / (step + 1), timestamp: now }] },
        })),
        { type: 'JobCompleted', data: { result: { loss: 0.01 }, artifacts: [] } },
      ];
      await store.appendToStream(
        `job-${jobId}`,
        log.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: metadata(e.type) })),
        { expectedRevision: 'no_stream' },
      );
    }
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}

/** Runs bench/replay-child.ts on the log; answers its own timing and the process's peak memory. */
function runChild(dbPath: string, mode: 'replay' | 'read'): Promise<{ events: number; ms: number; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/replay-child.ts', mode], {
      cwd: root,
      env: { ...process.env, TRIALOG_DB: dbPath, EVENTSTORE_URL: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let peak = 0;
    const timer = setInterval(() => {
      try {
        peak = Math.max(
          peak,
          Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
        );
      } catch {
        // exited
      }
    }, 50);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`replay-child ${mode} exited ${code}`));
      resolve({ ...(JSON.parse(out.trim().split('\n').pop()!) as { events: number; ms: number }), peakMiB: peak });
    });
  });
}

export async function replayAndStart(
  dir: string,
  events: number,
): Promise<{ rows: ScenarioResult[]; writeSeconds: number }> {
  const dbPath = join(dir, 'log-1m.db');
  const writeSeconds = await writeLog(dbPath, events);
  const read = await runChild(dbPath, 'read');
  const rebuilt = await runChild(dbPath, 'replay');
  const readRate = read.events / (read.ms / 1000);
  const replayRate = rebuilt.events / (rebuilt.ms / 1000);

  // First start: no read models yet, the server catches up before it serves.
  const cold = await startBenchServer(dbPath);
  const coldMemory = cold.rssMiB();
  await cold.stop();
  // Second start: read models checkpointed at the head.
  const warm = await startBenchServer(dbPath);
  await new Promise((r) => setTimeout(r, 500));
  const warmMemory = warm.rssMiB();
  await warm.stop();

  return {
    writeSeconds,
    rows: [
      {
        scenario: `ceiling: reading the ${fmt(events)}-event log from the store (no projection)`,
        rate: readRate,
        unit: 'events/s',
        peakMiB: read.peakMiB,
        note: `${(read.ms / 1000).toFixed(1)} s; process peak`,
      },
      {
        scenario: `replay: rebuild every read model from a ${fmt(events)}-event log`,
        rate: replayRate,
        unit: 'events/s',
        peakMiB: rebuilt.peakMiB,
        ofCeiling: { ceiling: 'store read', ratio: replayRate / readRate },
        target: { text: '>= 100,000 events/s', met: replayRate >= 100_000 },
        note: `${(rebuilt.ms / 1000).toFixed(1)} s; process peak`,
      },
      {
        scenario: `server start on the ${fmt(events)}-event log, read models checkpointed`,
        rate: warm.startMs / 1000,
        unit: 's to serving',
        peakMiB: warmMemory,
        target: { text: '<= 2 s, <= 300 MB', met: warm.startMs <= 2000 && warmMemory <= 300 },
        note: `first start, catching up from nothing: ${(cold.startMs / 1000).toFixed(1)} s, ${Math.round(coldMemory)} MiB`,
      },
    ],
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');
