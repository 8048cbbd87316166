/**
 * The metric read model: every stored point (`metric_points`, keyed by job,
 * series and step), a small index of each series (`metric_series`: its
 * count, step range, value range and last point), so listing a job's series
 * and their last values never scans points, and summaries of aligned blocks
 * of steps (`metric_blocks`: count, min and max of the points in each block
 * of 32 and of 1,024 steps, see ./block-cover.ts), so a downsampled read
 * (`buckets`) costs what it returns, not the points it covers.
 *
 * A step reported twice keeps its first value (as Optuna's trial.report does,
 * so early-stopping decisions match, and a retried report changes nothing);
 * the index and the blocks count only the points actually stored, in the
 * same transaction, so they always agree with `metric_points`. Points are
 * only ever inserted here (a pruning report's points are cut in the domain,
 * before the event; a retried job keeps its points; a PBT child is a job of its own, copying none):
 * whatever deletes points one day must update the index and the blocks too. Each point also records the revision of the job's stream
 * that stored it, so the series as they stood at a past revision are the
 * points at or below it (time travel reads them without folding the stream).
 *
 * A point whose step GraphQL cannot carry (below 0 or past 2^31 - 1, its
 * largest Int) is not served: commands refuse such steps, but a log written
 * before they did may hold one, and served it would break every read that
 * selects it (one job's metrics, any listing of jobs with their points). It
 * stays in the log as it was written: `history` and `events` show it.
 */
import type { Database } from 'better-sqlite3';
import { MAX_METRIC_STEP } from '../src/domain/job/decide.js';
import type { MetricPoint } from '../src/domain/job/events.js';
import { BLOCK_LEVELS, blockOf } from './block-cover.js';

const servableStep = (step: number) => Number.isSafeInteger(step) && step >= 0 && step <= MAX_METRIC_STEP;

export const METRICS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS metric_points (
    job_id    TEXT NOT NULL,
    name      TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL NOT NULL,
    timestamp TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    PRIMARY KEY (job_id, name, step)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS metric_series (
    job_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    count          INTEGER NOT NULL,
    first_step     INTEGER NOT NULL,
    last_step      INTEGER NOT NULL,
    last_value     REAL NOT NULL,
    last_timestamp TEXT NOT NULL,
    min_value      REAL NOT NULL,
    max_value      REAL NOT NULL,
    first_revision INTEGER NOT NULL,
    PRIMARY KEY (job_id, name)
  ) WITHOUT ROWID;
  -- level: the block size as a power of two (5: 32 steps, 10: 1,024); block: floor(step / 2^level).
  -- No last point here: the last point of any range is one seek down metric_points' primary key.
  CREATE TABLE IF NOT EXISTS metric_blocks (
    job_id    TEXT NOT NULL,
    name      TEXT NOT NULL,
    level     INTEGER NOT NULL,
    block     INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    PRIMARY KEY (job_id, name, level, block)
  ) WITHOUT ROWID;
`;

export const METRIC_TABLES = ['metric_points', 'metric_series', 'metric_blocks'] as const;

/** What one report adds to one series: only the points it actually stored. */
interface SeriesDelta {
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: number;
  lastTimestamp: string;
  min: number;
  max: number;
}

function addTo(deltas: Map<string, SeriesDelta>, point: MetricPoint): void {
  const delta = deltas.get(point.name);
  if (!delta) {
    deltas.set(point.name, {
      count: 1,
      firstStep: point.step,
      lastStep: point.step,
      lastValue: point.value,
      lastTimestamp: point.timestamp,
      min: point.value,
      max: point.value,
    });
    return;
  }
  delta.count += 1;
  delta.firstStep = Math.min(delta.firstStep, point.step);
  if (point.step > delta.lastStep) {
    delta.lastStep = point.step;
    delta.lastValue = point.value;
    delta.lastTimestamp = point.timestamp;
  }
  delta.min = Math.min(delta.min, point.value);
  delta.max = Math.max(delta.max, point.value);
}

/** What one report adds to one block of one series. */
interface BlockDelta {
  block: number;
  count: number;
  min: number;
  max: number;
}

/** One series' block deltas of one report, per level (in BLOCK_LEVELS' order), by block number. */
type SeriesBlockDeltas = Map<number, BlockDelta>[];

function addToBlocks(deltas: Map<string, SeriesBlockDeltas>, point: MetricPoint): void {
  let levels = deltas.get(point.name);
  if (!levels) deltas.set(point.name, (levels = BLOCK_LEVELS.map(() => new Map<number, BlockDelta>())));
  for (let i = 0; i < BLOCK_LEVELS.length; i++) {
    const block = blockOf(point.step, BLOCK_LEVELS[i]!);
    const delta = levels[i]!.get(block);
    if (!delta) {
      levels[i]!.set(block, { block, count: 1, min: point.value, max: point.value });
      continue;
    }
    delta.count += 1;
    if (point.value < delta.min) delta.min = point.value;
    if (point.value > delta.max) delta.max = point.value;
  }
}

/**
 * Stores a report's points and keeps the series index and the blocks in step:
 * one index write per series and one write per block touched per report
 * (a report of 1,000 consecutive steps touches about 32 + 1 blocks).
 */
export function metricWriter(db: Database): {
  record(jobId: string, points: readonly MetricPoint[], revision: number): void;
} {
  db.exec(METRICS_SCHEMA);
  const insertPoint = db.prepare(
    `INSERT INTO metric_points (job_id, name, step, value, timestamp, revision) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (job_id, name, step) DO NOTHING`,
  );
  // In an UPDATE every right-hand side sees the row as it was, so the order of the assignments is free.
  // A stored point's step is new to its series (the primary key), never equal to last_step.
  const upsertSeries = db.prepare(
    `INSERT INTO metric_series (job_id, name, count, first_step, last_step, last_value, last_timestamp,
                                min_value, max_value, first_revision)
     VALUES (@jobId, @name, @count, @firstStep, @lastStep, @lastValue, @lastTimestamp, @min, @max, @revision)
     ON CONFLICT (job_id, name) DO UPDATE SET
       count = count + excluded.count,
       first_step = min(first_step, excluded.first_step),
       last_value = CASE WHEN excluded.last_step > last_step THEN excluded.last_value ELSE last_value END,
       last_timestamp = CASE WHEN excluded.last_step > last_step THEN excluded.last_timestamp ELSE last_timestamp END,
       last_step = max(last_step, excluded.last_step),
       min_value = min(min_value, excluded.min_value),
       max_value = max(max_value, excluded.max_value)`,
  );
  const upsertBlock = db.prepare(
    `INSERT INTO metric_blocks (job_id, name, level, block, count, min_value, max_value)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (job_id, name, level, block) DO UPDATE SET
       count = count + excluded.count,
       min_value = min(min_value, excluded.min_value),
       max_value = max(max_value, excluded.max_value)`,
  );
  return {
    record(jobId, points, revision) {
      const deltas = new Map<string, SeriesDelta>();
      const blocks = new Map<string, SeriesBlockDeltas>();
      for (const point of points) {
        if (!servableStep(point.step)) continue;
        const stored =
          insertPoint.run(jobId, point.name, point.step, point.value, point.timestamp, revision).changes > 0;
        if (!stored) continue;
        addTo(deltas, point);
        addToBlocks(blocks, point);
      }
      for (const [name, delta] of deltas) upsertSeries.run({ jobId, name, revision, ...delta });
      for (const [name, levels] of blocks) {
        levels.forEach((deltas, i) => {
          for (const { block, count, min, max } of deltas.values())
            upsertBlock.run(jobId, name, BLOCK_LEVELS[i], block, count, min, max);
        });
      }
    },
  };
}
