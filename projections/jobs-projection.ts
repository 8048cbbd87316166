/**
 * The jobs read model: one row per job (its folded state plus the columns
 * that queries filter and sort on), its labels, metric points (with their
 * series index, see ./metric-series.ts), log lines, and the small values of
 * a search's trials' hyperparameters that TPE reads (trial_values).
 * Rows are folded with the domain's own `evolve`, so the read model and
 * `jobAt` can never disagree about what an event means.
 */
import { parseOnce } from './parse-once.js';
import type { Database } from 'better-sqlite3';
import type { JobEvent } from '../src/domain/job/events.js';
import { jobKind } from '../src/domain/job/kind.js';
import { evolveJob, type JobState } from '../src/domain/job/state.js';
import { storedTrialValues } from '../src/domain/experiment/tpe/trial-values.js';
import type { RecordedEvent } from '../src/store/port.js';
import { METRIC_TABLES, metricWriter } from './metric-series.js';
import type { Projection } from './projection.js';
import { HEAVY_JOB_FIELDS, type LightJobState } from './job-row.js';

export const JOBS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS jobs (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    experiment_id    TEXT,
    algorithm_id     TEXT,
    worker_id        TEXT,
    priority         INTEGER NOT NULL,
    lease_expires_at TEXT,
    trial_index      INTEGER,
    objective_value  REAL,
    created_position TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    last_position    TEXT NOT NULL,
    last_event_id    TEXT NOT NULL,
    state            TEXT NOT NULL
  ) WITHOUT ROWID;
  -- The large fields, apart: a jobs row stays small, so reading or updating it never walks a megabyte of
  -- training data (SQLite reads and rewrites a row whole, overflow pages included).
  CREATE TABLE IF NOT EXISTS job_large_fields (
    job_id        TEXT PRIMARY KEY,
    training_data TEXT,
    result        TEXT,
    artifacts     TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority DESC, created_position);
  CREATE INDEX IF NOT EXISTS jobs_leases ON jobs (status, lease_expires_at);
  CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created_position);
  -- jobs(orderBy: PRIORITY): walked either way, a page at a time.
  CREATE INDEX IF NOT EXISTS jobs_by_priority ON jobs (priority, created_position);
  CREATE INDEX IF NOT EXISTS jobs_by_experiment ON jobs (experiment_id, created_position);
  CREATE INDEX IF NOT EXISTS jobs_by_trial ON jobs (experiment_id, trial_index);
  CREATE INDEX IF NOT EXISTS jobs_ranked ON jobs (experiment_id, status, objective_value);
  CREATE INDEX IF NOT EXISTS jobs_by_worker ON jobs (worker_id, created_position);
  CREATE INDEX IF NOT EXISTS jobs_by_algorithm ON jobs (algorithm_id, created_position);
  CREATE TABLE IF NOT EXISTS job_labels (
    job_id TEXT NOT NULL,
    label  TEXT NOT NULL,
    PRIMARY KEY (job_id, label)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS job_labels_by_label ON job_labels (label, job_id);
  CREATE TABLE IF NOT EXISTS log_lines (
    job_id    TEXT NOT NULL,
    offset    INTEGER NOT NULL,
    stream    TEXT NOT NULL,
    text      TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    PRIMARY KEY (job_id, offset)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS job_rungs (
    job_id        TEXT NOT NULL,
    experiment_id TEXT NOT NULL,
    rung          INTEGER NOT NULL,
    value         REAL NOT NULL,
    PRIMARY KEY (job_id, rung)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS job_rungs_by_experiment ON job_rungs (experiment_id, rung);
  -- A search's trials' hyperparameters, one row each, small values only (tpe/trial-values.ts): what a TPE
  -- proposal reads, so its cost follows the trials and parameters it weighs, not the bytes each job holds.
  CREATE TABLE IF NOT EXISTS trial_values (
    experiment_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    trial_index   INTEGER NOT NULL,
    number        REAL,
    json          TEXT,
    PRIMARY KEY (experiment_id, name, trial_index)
  ) WITHOUT ROWID;
`;

/**
 * A job's objective value: `result[metric]` when it completed with one,
 * else the metric's value at the last step reported.
 */
function objectiveValue(
  event: JobEvent,
  metric: string | null,
  before: number | null,
  lastReported: () => number | undefined,
): number | null {
  if (metric === null) return null;
  if (event.type === 'JobMetricsReported' && event.data.points.some((p) => p.name === metric)) {
    return lastReported() ?? before;
  }
  if (event.type === 'JobCompleted') {
    const fromResult = event.data.result?.[metric];
    if (typeof fromResult === 'number' && Number.isFinite(fromResult)) return fromResult;
  }
  return before;
}

export function jobsProjection(db: Database): Projection {
  db.exec(JOBS_SCHEMA);
  // Only the light state: the large fields (job_large_fields) are not read back; they are written when an event sets them.
  const selectJob = db.prepare<[string], { state: string; objective_value: number | null }>(
    'SELECT state, objective_value FROM jobs WHERE id = ?',
  );
  const upsertJob = db.prepare(
    `INSERT INTO jobs (id, status, experiment_id, algorithm_id, worker_id, priority, lease_expires_at,
                       trial_index, objective_value, created_position, revision, last_position, last_event_id, state)
     VALUES (@id, @status, @experimentId, @algorithmId, @workerId, @priority, @leaseExpiresAt,
             @trialIndex, @objectiveValue, @createdPosition, @revision, @lastPosition, @lastEventId, @state)
     ON CONFLICT (id) DO UPDATE SET
       status = excluded.status, worker_id = excluded.worker_id, lease_expires_at = excluded.lease_expires_at,
       objective_value = excluded.objective_value, revision = excluded.revision,
       last_position = excluded.last_position, last_event_id = excluded.last_event_id, state = excluded.state`,
  );
  // A large field is written only when this batch's events set it (`set*` flags); otherwise it keeps its value.
  const upsertLargeFields = db.prepare(
    `INSERT INTO job_large_fields (job_id, training_data, result, artifacts)
     VALUES (@id, @trainingData, @result, coalesce(@artifacts, '[]'))
     ON CONFLICT (job_id) DO UPDATE SET
       training_data = CASE WHEN @setTrainingData THEN excluded.training_data ELSE job_large_fields.training_data END,
       result = CASE WHEN @setResult THEN excluded.result ELSE job_large_fields.result END,
       artifacts = CASE WHEN @setArtifacts THEN excluded.artifacts ELSE job_large_fields.artifacts END`,
  );
  // Experiments are projected first in each batch, and an experiment exists before its jobs.
  const experimentObjective = db.prepare<[string], { state: string }>('SELECT state FROM experiments WHERE id = ?');
  const metrics = metricWriter(db);
  const insertRung = db.prepare(
    'INSERT OR IGNORE INTO job_rungs (job_id, experiment_id, rung, value) VALUES (?, ?, ?, ?)',
  );
  const objectives = new Map<string, string | null>();
  const objectiveMetricOf = (experimentId: string | null): string | null => {
    if (experimentId === null) return null;
    if (!objectives.has(experimentId)) {
      const row = experimentObjective.get(experimentId);
      const state = row ? (JSON.parse(row.state) as { settings: { objective: { metric: string } | null } }) : undefined;
      objectives.set(experimentId, state?.settings.objective?.metric ?? null);
    }
    return objectives.get(experimentId)!;
  };
  const insertLabel = db.prepare('INSERT OR IGNORE INTO job_labels (job_id, label) VALUES (?, ?)');
  const insertTrialValue = db.prepare(
    'INSERT OR REPLACE INTO trial_values (experiment_id, name, trial_index, number, json) VALUES (?, ?, ?, ?, ?)',
  );
  const insertLine = db.prepare(
    'INSERT INTO log_lines (job_id, offset, stream, text, timestamp) VALUES (?, ?, ?, ?, ?)',
  );

  // Rows changed in this batch, written once at flush (a job's row may change with every event).
  interface Row {
    /** Light when read back from the table (large fields undefined); a large field is defined once an event sets it. */
    state: JobState | LightJobState;
    objectiveValue: number | null;
    createdPosition: string;
    revision: number;
    lastPosition: string;
    lastEventId: string;
  }
  const pending = new Map<string, Row>();
  const rowOf = (jobId: string): Row | undefined => {
    const held = pending.get(jobId);
    if (held) return held;
    const stored = selectJob.get(jobId);
    // created_position is kept on conflict: an existing row's value need not be known here.
    return (
      stored && {
        state: JSON.parse(stored.state) as LightJobState,
        objectiveValue: stored.objective_value,
        createdPosition: '',
        revision: -1,
        lastPosition: '',
        lastEventId: '',
      }
    );
  };

  return {
    name: 'jobs',
    tables: ['jobs', 'job_large_fields', 'job_labels', ...METRIC_TABLES, 'log_lines', 'job_rungs', 'trial_values'],
    apply(recorded: RecordedEvent) {
      if (!jobKind.holds(recorded)) return;
      const event = parseOnce(recorded, jobKind.parse);
      const jobId = jobKind.idOf(recorded.streamId);
      const before = rowOf(jobId);
      // evolve copies what an event does not set, so a light state stays light except where this event writes.
      const state = evolveJob(before?.state, event)!;
      const metric = objectiveMetricOf(state.experimentId);
      switch (event.type) {
        case 'JobCreated': {
          for (const label of event.data.labels) insertLabel.run(jobId, label);
          const { experimentId, trialIndex, hyperparameters } = event.data;
          if (experimentId !== null && trialIndex !== null) {
            for (const { name, number, json } of storedTrialValues(hyperparameters)) {
              insertTrialValue.run(experimentId, name, trialIndex, number, json);
            }
          }
          break;
        }
        case 'JobMetricsReported':
          metrics.record(jobId, event.data.points, Number(recorded.revision));
          break;
        case 'JobLogAppended':
          event.data.lines.forEach((text, i) =>
            insertLine.run(jobId, event.data.firstOffset + i, event.data.stream, text, recorded.timestamp),
          );
          break;
        case 'JobRungsReached':
          for (const { rung, value } of event.data.rungs) insertRung.run(jobId, state.experimentId, rung, value);
          break;
      }
      pending.set(jobId, {
        state,
        objectiveValue: objectiveValue(event, metric, before?.objectiveValue ?? null, () =>
          metric === null ? undefined : metrics.lastValue(jobId, metric),
        ),
        createdPosition: before?.createdPosition || recorded.position,
        revision: Number(recorded.revision),
        lastPosition: recorded.position,
        lastEventId: recorded.id,
      });
    },
    flush() {
      for (const [jobId, row] of pending) {
        const state = row.state as JobState;
        const light: Record<string, unknown> = { ...state };
        for (const field of HEAVY_JOB_FIELDS) delete light[field];
        upsertJob.run({
          id: jobId,
          status: state.status,
          experimentId: state.experimentId,
          algorithmId: state.algorithmId,
          workerId: state.workerId,
          priority: state.priority,
          leaseExpiresAt: state.status === 'RUNNING' ? state.leaseExpiresAt : null,
          trialIndex: state.trialIndex,
          objectiveValue: row.objectiveValue,
          createdPosition: row.createdPosition,
          revision: row.revision,
          lastPosition: row.lastPosition,
          lastEventId: row.lastEventId,
          state: JSON.stringify(light),
        });
        const set = {
          trainingData: state.trainingData !== undefined,
          result: state.result !== undefined,
          artifacts: state.artifacts !== undefined,
        };
        if (set.trainingData || set.result || set.artifacts) {
          upsertLargeFields.run({
            id: jobId,
            trainingData: state.trainingData == null ? null : JSON.stringify(state.trainingData),
            result: state.result == null ? null : JSON.stringify(state.result),
            artifacts: state.artifacts === undefined ? null : JSON.stringify(state.artifacts),
            setTrainingData: set.trainingData ? 1 : 0,
            setResult: set.result ? 1 : 0,
            setArtifacts: set.artifacts ? 1 : 0,
          });
        }
      }
      pending.clear();
      metrics.flush();
    },
    discard() {
      pending.clear();
      metrics.discard();
    },
  };
}
