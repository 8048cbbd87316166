/**
 * The repository's cache is kept current by its own appends: after each
 * command the cached fold is exactly what folding the stream from its first
 * event gives (timestamps included), and the next load reads no event back.
 * A lost race drops the entry, and the retried decision starts from the stream.
 * Runs against the real SQLite store.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobRepository } from '../../src/app/job-repository.js';
import { hashLeaseToken, jobData } from '../../src/app/job-ids.js';
import { decideJob, type JobCommand } from '../../src/domain/job/decide.js';
import type { JobState } from '../../src/domain/job/state.js';
import type { EventStore } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/server.js';

const context = { actor: 'test', correlationId: 'repository-cache' };
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

/** The store as the repository sees it, counting the events its stream reads hand back. */
function countingReads(store: EventStore): { store: EventStore; eventsRead: () => number } {
  let read = 0;
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'readStream') return Reflect.get(target, key, receiver);
      return async (...args: Parameters<EventStore['readStream']>) => {
        const events = await target.readStream(...args);
        read += events.length;
        return events;
      };
    },
  });
  return { store: counted, eventsRead: () => read };
}

function openStore(): SqliteEventStore {
  const dir = tempDir();
  dirs.push(dir);
  return new SqliteEventStore(join(dir.path, 'events.db'), { synchronous: 'NORMAL' });
}

const TOKEN = hashLeaseToken('token');
const point = (step: number) => ({ name: 'loss', value: 1 / (step + 1), step, timestamp: null });

/** A job's life as a worker drives it: each command decided on the state before it. */
const lifecycle: ((now: Date) => JobCommand)[] = [
  () => ({ type: 'CreateJob', ...jobData('job_cache', { labels: ['a'], maxAttempts: 2 }) }),
  (now) => ({ type: 'ClaimJob', workerId: 'w1', leaseTokenHash: TOKEN, leaseSeconds: 60, now }),
  (now) => ({ type: 'Heartbeat', leaseTokenHash: TOKEN, progress: 0.5, leaseSeconds: null, now }),
  (now) => ({ type: 'ReportMetrics', leaseTokenHash: TOKEN, points: [point(0), point(1)], now, sequence: 1 }),
  () => ({ type: 'AppendLog', leaseTokenHash: TOKEN, lines: ['one', 'two'], stream: 'STDOUT', sequence: 1 }),
  (now) => ({ type: 'ReportMetrics', leaseTokenHash: TOKEN, points: [point(2)], now, sequence: 2 }),
  () => ({ type: 'FailJob', leaseTokenHash: TOKEN, error: 'oom', retry: true }),
  (now) => ({ type: 'ClaimJob', workerId: 'w2', leaseTokenHash: TOKEN, leaseSeconds: 60, now }),
  () => ({ type: 'CompleteJob', leaseTokenHash: TOKEN, result: { loss: 0.1 }, artifacts: [] }),
];

describe('the repository cache after its own appends', () => {
  it('given a job driven through its life, when each command is appended, then the cached fold equals a fold from zero and the next load reads no event', async () => {
    const store = openStore();
    try {
      const { store: counted, eventsRead } = countingReads(store);
      const repository = jobRepository(counted);
      for (const command of lifecycle) {
        const { events } = await repository.change(
          'job_cache',
          (state) => decideJob(state, command(new Date())),
          context,
        );
        expect(events.length).toBeGreaterThan(0);
        const before = eventsRead();
        const cached = await repository.load('job_cache');
        // Nothing read back: the append advanced the cache.
        expect(eventsRead()).toBe(before);
        const fresh = await jobRepository(store).load('job_cache');
        expect(cached).toEqual(fresh);
        expect(JSON.stringify(cached.state)).toBe(JSON.stringify(fresh.state));
      }
      // Only the first decision read the (empty) stream; no event was ever read back.
      expect(eventsRead()).toBe(0);
      expect((await repository.load('job_cache')).state?.status).toBe('SUCCEEDED');
    } finally {
      await store.close();
    }
  });

  it('given another writer appended after a load, when a change decided on that load loses the race, then it is decided again on the stream and the cache equals a fold from zero', async () => {
    const store = openStore();
    try {
      const repository = jobRepository(store);
      const rival = jobRepository(store);
      await repository.change('job_cache', (s) => decideJob(s, lifecycle[0]!(new Date())), context);
      await repository.change('job_cache', (s) => decideJob(s, lifecycle[1]!(new Date())), context);
      const stale = await repository.load('job_cache');
      await rival.change('job_cache', (s) => decideJob(s, lifecycle[2]!(new Date())), context);
      const decidedOn: (JobState | undefined)[] = [];
      await repository.change(
        'job_cache',
        (state) => {
          decidedOn.push(state);
          return decideJob(state, lifecycle[3]!(new Date()));
        },
        context,
        { loaded: stale },
      );
      // The first decision lost the race; the second saw the rival's heartbeat.
      expect(decidedOn.map((s) => s?.progress)).toEqual([null, 0.5]);
      const fresh = await jobRepository(store).load('job_cache');
      expect(await repository.load('job_cache')).toEqual(fresh);
      expect(fresh.revision).toBe(3n);
    } finally {
      await store.close();
    }
  });

  it('given a change whose retries are used up, when it loses the race, then it answers CONFLICT', async () => {
    const store = openStore();
    try {
      const repository = jobRepository(store);
      await repository.change('job_cache', (s) => decideJob(s, lifecycle[0]!(new Date())), context);
      const stale = await repository.load('job_cache');
      await repository.change('job_cache', (s) => decideJob(s, lifecycle[1]!(new Date())), context);
      const lost = repository.change('job_cache', (s) => decideJob(s, { type: 'CancelJob', reason: null }), context, {
        loaded: stale,
        retries: 0,
      });
      await expect(lost).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await store.close();
    }
  });
});
