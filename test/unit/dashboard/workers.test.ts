/** The Workers view: grouping, lease countdowns, progress, and reading many jobs in one request. */
import { describe, expect, it } from 'vitest';
import {
  chunkIds,
  jobsByIdDocument,
  jobsByIdVariables,
  JOBS_PER_REQUEST,
} from '../../../dashboard/src/logic/jobs-by-id.js';
import {
  formatCountdown,
  groupByWorker,
  leaseSecondsLeft,
  progressPercent,
} from '../../../dashboard/src/logic/workers.js';

describe('running jobs grouped by worker', () => {
  it('gives one group per worker, workers in order, jobs in the order listed', () => {
    const jobs = [
      { id: '1', workerId: 'w-b', createdAt: '1' },
      { id: '2', workerId: 'w-a', createdAt: '2' },
      { id: '3', workerId: 'w-b', createdAt: '3' },
    ];
    expect(groupByWorker(jobs).map((g) => [g.workerId, g.jobs.map((j) => j.id)])).toEqual([
      ['w-a', ['2']],
      ['w-b', ['1', '3']],
    ]);
  });
});

describe('the lease countdown', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  it('counts whole seconds left, and below zero once expired', () => {
    expect(leaseSecondsLeft('2026-01-01T00:01:05.900Z', now)).toBe(65);
    expect(leaseSecondsLeft('2025-12-31T23:59:48.000Z', now)).toBe(-12);
    expect(leaseSecondsLeft(null, now)).toBeNull();
    expect(leaseSecondsLeft('not a time', now)).toBeNull();
  });

  it('reads as minutes and seconds, hours when long, or how long ago it expired', () => {
    expect(formatCountdown(65)).toBe('1:05');
    expect(formatCountdown(9)).toBe('0:09');
    expect(formatCountdown(3725)).toBe('1:02:05');
    expect(formatCountdown(-12)).toBe('expired 0:12 ago');
    expect(formatCountdown(null)).toBe('—');
  });
});

describe('the progress bar', () => {
  it('is a percentage of the reported fraction, clamped, absent without a report', () => {
    expect(progressPercent(0.4567)).toBe(45.7);
    expect(progressPercent(1.7)).toBe(100);
    expect(progressPercent(-1)).toBe(0);
    expect(progressPercent(null)).toBeNull();
    expect(progressPercent(Number.NaN)).toBeNull();
  });
});

describe('reading jobs by id', () => {
  it('asks for each id under its own alias, with variables, in one document', () => {
    const document = jobsByIdDocument(2, 'fragment JobFields on Job { id }');
    expect(document).toContain('query JobsById($id0: ID!, $id1: ID!)');
    expect(document).toContain('j0: job(id: $id0) { ...JobFields }');
    expect(document).toContain('j1: job(id: $id1) { ...JobFields }');
    expect(jobsByIdVariables(['a', 'b'])).toEqual({ id0: 'a', id1: 'b' });
  });

  it("splits many ids into requests under the server's alias limit, without repeats", () => {
    const ids = [...Array.from({ length: 120 }, (_, i) => `j${i}`), 'j0', 'j1'];
    const chunks = chunkIds(ids);
    expect(chunks.map((c) => c.length)).toEqual([JOBS_PER_REQUEST, JOBS_PER_REQUEST, 20]);
    expect(new Set(chunks.flat()).size).toBe(120);
    expect(() => jobsByIdDocument(JOBS_PER_REQUEST + 1, '')).toThrow(RangeError);
  });
});
