/**
 * What the early-stopping rules read of a job's series before a report comes
 * from the read model in a few seeks (its value range from the series index,
 * its two largest steps, one lookup per reported step): it must be what the
 * rules would read of the whole series, for any series.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ExperimentQueries } from '../../projections/experiments-queries.js';
import { metricWriter } from '../../projections/metric-series.js';
import { seriesBeforeOf } from '../../src/domain/experiment/pruners.js';
import { readModelProjections } from '../../src/trialog.js';
import { randomOf } from '../helpers/seeded-random.js';

describe('a job series as the early-stopping rules read it from the read model', () => {
  it('given reports in any order, with steps repeated and other metrics between, then it is what the rules read of the whole series', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { next: random } = randomOf(seed);
      const db = new Database(':memory:');
      for (const make of readModelProjections) make(db);
      const metrics = metricWriter(db);
      const reports = Math.ceil(random() * 6);
      for (let report = 0; report < reports; report++) {
        const points = Array.from({ length: Math.ceil(random() * 40) }, () => ({
          name: random() < 0.8 ? 'loss' : 'accuracy',
          step: Math.floor(random() * 60),
          value: Math.round(random() * 1000) / 100 - 5,
          timestamp: '2026-11-30T00:00:00.000Z',
        }));
        metrics.record('job-1', points, report + 1);
        if (random() < 0.5) metrics.flush(); // some reports in one batch of the runner, some in their own
      }
      metrics.flush();
      const queries = new ExperimentQueries(db);
      const whole = queries.intermediates('job-1', 'loss');
      const expected = seriesBeforeOf(whole);
      const read = queries.seriesBefore('job-1', 'loss');
      expect({ seed, top: read.top, min: read.min, max: read.max }).toEqual({
        seed,
        top: expected.top,
        min: expected.min,
        max: expected.max,
      });
      for (let step = 0; step <= 70; step++)
        expect({ seed, step, has: read.has(step) }).toEqual({ seed, step, has: whole.has(step) });
      db.close();
    }
  });

  it('given no point of the metric, then it reads as an empty series', () => {
    const db = new Database(':memory:');
    for (const make of readModelProjections) make(db);
    const read = new ExperimentQueries(db).seriesBefore('job-1', 'loss');
    expect(read.top).toEqual([]);
    expect(read.has(0)).toBe(false);
    db.close();
  });
});
