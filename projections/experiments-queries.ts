/** Reads of the experiments read model and of an experiment's jobs. */
import type { Database } from 'better-sqlite3';
import { EMPTY_SERIES, type SeriesBefore, type StepValue } from '../src/domain/experiment/pruners.js';
import { statementCache, type PreparedBySql } from '../src/sqlite-statement-cache.js';
import type { ExperimentState } from '../src/domain/experiment/state.js';
import type { Json, JobStatus } from '../src/domain/job/events.js';
import { jobKind } from '../src/domain/job/kind.js';
import { trialValueOf } from '../src/domain/experiment/tpe/trial-values.js';
import type { RecordedEvent } from '../src/store/port.js';
import type { JobState } from '../src/domain/job/state.js';
import type { Page } from './jobs-queries.js';

export interface ExperimentView extends ExperimentState {
  revision: number;
}

interface ExperimentRow {
  state: string;
  revision: number;
  created_position: string;
}

const toView = (row: ExperimentRow): ExperimentView => ({
  ...(JSON.parse(row.state) as ExperimentState),
  revision: row.revision,
});

/** A running experiment as a worker pool sees it: whom it is for, its weight, whether it names a command. */
export interface PoolCandidate {
  id: string;
  labels: string[];
  priority: number;
  hasCommand: boolean;
}

export interface TrialJob {
  id: string;
  trialIndex: number;
  status: JobStatus;
  objectiveValue: number | null;
  hyperparameters: JobState['hyperparameters'];
}

/**
 * A trial as TPE weighs it: its end (or live lease), the objective's last
 * report when it was pruned, and only the hyperparameters it models, as
 * trial_values keeps them.
 */
export interface TpeTrialRow extends TrialJob {
  leaseExpiresAt: string | null;
  lastReport: { step: number; value: number } | null;
}

function trialJobOf(row: {
  id: string;
  trial_index: number;
  status: JobStatus;
  objective_value: number | null;
  hyperparameters: string;
}): TrialJob {
  return {
    id: row.id,
    trialIndex: row.trial_index,
    status: row.status,
    objectiveValue: row.objective_value,
    hyperparameters: JSON.parse(row.hyperparameters) as TrialJob['hyperparameters'],
  };
}

export type JobCounts = Record<
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'pruned' | 'total',
  number
>;

export class ExperimentQueries {
  private readonly byId;
  private readonly byName;
  private readonly countsByStatus;
  private readonly maxTrial;
  private readonly completedPoints;
  private readonly jobPoints;
  private readonly seriesRange;
  private readonly largestSteps;
  private readonly pointAt;
  private readonly rungValuesOfOthers;
  private readonly running;
  private readonly runningCountOf;
  private readonly rungValuesWithTrialsOf;
  private readonly firstCompletedLastStepOf;
  private readonly unfinishedJobs;
  private readonly trialJobsOf;
  private readonly tpeTrialsOf;
  private readonly trialValuesOf;
  private readonly trialCountOf;
  private readonly trialIndexes;

  private readonly jobPlace;

  /** Queries whose SQL is built per call, prepared once per shape. */
  private readonly prepared: PreparedBySql;

  constructor(db: Database) {
    this.prepared = statementCache(db);
    this.jobPlace = db.prepare<[string], { experiment_id: string | null; status: string }>(
      'SELECT experiment_id, status FROM jobs WHERE id = ?',
    );
    this.byId = db.prepare<[string], ExperimentRow>(
      'SELECT state, revision, created_position FROM experiments WHERE id = ?',
    );
    // Only what a pool ranks by, taken out of each state by SQLite: a pool claim never parses the running
    // experiments' settings (spaces, choices, descriptions), only the one it then claims from.
    this.running = db.prepare<
      [],
      { id: string; labels: string | null; priority: number | null; command_type: string | null }
    >(
      `SELECT id, json_extract(state, '$.settings.labels') AS labels, json_extract(state, '$.settings.priority') AS priority,
              json_type(state, '$.settings.command') AS command_type
       FROM experiments WHERE status = 'RUNNING' ORDER BY created_position`,
    );
    // Through jobs_ranked (experiment_id, status, …): as many rows as are running, not the experiment's every job.
    this.runningCountOf = db.prepare<[string], { count: number }>(
      `SELECT count(*) AS count FROM jobs WHERE experiment_id = ? AND status = 'RUNNING'`,
    );
    this.byName = db.prepare<[string], ExperimentRow>(
      'SELECT state, revision, created_position FROM experiments WHERE name = ?',
    );
    this.countsByStatus = db.prepare<[string], { status: JobStatus; count: number }>(
      'SELECT status, count(*) AS count FROM jobs WHERE experiment_id = ? GROUP BY status',
    );
    this.maxTrial = db.prepare<[string], { max: number | null }>(
      'SELECT max(trial_index) AS max FROM jobs WHERE experiment_id = ?',
    );
    // Every SUCCEEDED job counts (as Optuna counts COMPLETE trials), with its points or without.
    this.completedPoints = db.prepare<[string, string], { job_id: string; step: number | null; value: number | null }>(
      `SELECT j.id AS job_id, p.step, p.value FROM jobs j LEFT JOIN metric_points p ON p.job_id = j.id AND p.name = ?
       WHERE j.experiment_id = ? AND j.status = 'SUCCEEDED'`,
    );
    this.seriesRange = db.prepare<[string, string], { min: number; max: number }>(
      'SELECT min_value AS min, max_value AS max FROM metric_series WHERE job_id = ? AND name = ?',
    );
    this.largestSteps = db.prepare<[string, string], StepValue>(
      'SELECT step, value FROM metric_points WHERE job_id = ? AND name = ? ORDER BY step DESC LIMIT 2',
    );
    this.pointAt = db.prepare<[string, string, number], { found: 1 }>(
      'SELECT 1 AS found FROM metric_points WHERE job_id = ? AND name = ? AND step = ?',
    );
    this.jobPoints = db.prepare<[string, string], { step: number; value: number }>(
      'SELECT step, value FROM metric_points WHERE job_id = ? AND name = ?',
    );
    this.rungValuesOfOthers = db.prepare<[string, number, string], { value: number }>(
      'SELECT value FROM job_rungs WHERE experiment_id = ? AND rung = ? AND job_id != ?',
    );
    this.rungValuesWithTrialsOf = db.prepare<
      [string, number, string],
      { value: number; job_id: string; trial_index: number | null }
    >(
      `SELECT r.value, r.job_id, j.trial_index FROM job_rungs r JOIN jobs j ON j.id = r.job_id
       WHERE r.experiment_id = ? AND r.rung = ? AND r.job_id != ?`,
    );
    // A succeeded job's last event is its completion, so last_position orders the successes.
    this.firstCompletedLastStepOf = db.prepare<[string, string], { last: number }>(
      `SELECT s.last_step AS last FROM jobs j JOIN metric_series s ON s.job_id = j.id AND s.name = ?
       WHERE j.experiment_id = ? AND j.status = 'SUCCEEDED' ORDER BY j.last_position LIMIT 1`,
    );
    // The hyperparameters alone, taken out by SQLite: a PBT job's state also holds its params, and with them
    // the parent's artifact list (checkpointFrom), which no scheduling decision reads.
    this.trialJobsOf = db.prepare<
      [string],
      { id: string; trial_index: number; status: JobStatus; objective_value: number | null; hyperparameters: string }
    >(
      `SELECT id, trial_index, status, objective_value, json_extract(state, '$.hyperparameters') AS hyperparameters
       FROM jobs WHERE experiment_id = ? AND trial_index IS NOT NULL`,
    );
    // Only the trials TPE weighs (ended well, pruned, or running); the objective's series row holds its
    // largest step and the value there, so a pruned trial's last report costs one row, not its points.
    this.tpeTrialsOf = db.prepare<
      [string, string],
      {
        id: string;
        trial_index: number;
        status: JobStatus;
        objective_value: number | null;
        lease_expires_at: string | null;
        last_step: number | null;
        last_value: number | null;
      }
    >(
      `SELECT j.id, j.trial_index, j.status, j.objective_value, j.lease_expires_at, s.last_step, s.last_value
       FROM jobs j LEFT JOIN metric_series s ON s.job_id = j.id AND s.name = ?
       WHERE j.experiment_id = ? AND j.trial_index IS NOT NULL AND j.status IN ('SUCCEEDED', 'PRUNED', 'RUNNING')`,
    );
    this.trialValuesOf = db.prepare<
      [string, string],
      { trial_index: number; name: string; number: number | null; json: string | null }
    >(
      `SELECT trial_index, name, number, json FROM trial_values
       WHERE experiment_id = ? AND name IN (SELECT value FROM json_each(?))`,
    );
    this.trialCountOf = db.prepare<[string], { count: number }>(
      'SELECT count(*) AS count FROM jobs WHERE experiment_id = ? AND trial_index IS NOT NULL',
    );
    this.trialIndexes = db.prepare<[string], { trial_index: number }>(
      'SELECT trial_index FROM jobs WHERE experiment_id = ? AND trial_index IS NOT NULL ORDER BY trial_index',
    );
    this.unfinishedJobs = db.prepare<[string], { id: string }>(
      `SELECT id FROM jobs WHERE experiment_id = ? AND status IN ('QUEUED', 'RUNNING') ORDER BY created_position`,
    );
  }

  /** The running experiments, oldest first, as a worker pool ranks them. */
  poolCandidates(): PoolCandidate[] {
    return this.running.all().map((row) => ({
      id: row.id,
      labels: row.labels === null ? [] : (JSON.parse(row.labels) as string[]),
      priority: row.priority ?? 1,
      // An argv when set; null (or absent, in settings from before commands) otherwise.
      hasCommand: row.command_type === 'array',
    }));
  }

  experiment(id: string): ExperimentView | undefined {
    const row = this.byId.get(id);
    return row ? toView(row) : undefined;
  }

  experimentByName(name: string): ExperimentView | undefined {
    const row = this.byName.get(name);
    return row ? toView(row) : undefined;
  }

  experiments(status: string | null, first: number, after: string | undefined): Page<ExperimentView> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (status !== null) {
      where.push('status = ?');
      params.push(status);
    }
    if (after !== undefined) {
      where.push('created_position > ?');
      params.push(after);
    }
    const rows = this.prepared(
      `SELECT state, revision, created_position FROM experiments
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_position LIMIT ?`,
    ).all(...params, first + 1) as ExperimentRow[];
    return {
      items: rows.slice(0, first).map((row) => ({ cursor: row.created_position, node: toView(row) })),
      hasNextPage: rows.length > first,
    };
  }

  /** How many of the experiment's jobs are running (maxConcurrent, a pool's fair shares). */
  runningCount(experimentId: string): number {
    return this.runningCountOf.get(experimentId)?.count ?? 0;
  }

  jobCounts(experimentId: string): JobCounts {
    const counts: JobCounts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, pruned: 0, total: 0 };
    for (const { status, count } of this.countsByStatus.all(experimentId)) {
      counts[status.toLowerCase() as keyof JobCounts] = count;
      counts.total += count;
    }
    return counts;
  }

  /** SUCCEEDED jobs with an objective value, best first (ties: oldest first). */
  leaderboard(experimentId: string, direction: 'MINIMIZE' | 'MAXIMIZE', first: number): string[] {
    const order = direction === 'MINIMIZE' ? 'ASC' : 'DESC';
    return (
      this.prepared(
        `SELECT id FROM jobs WHERE experiment_id = ? AND status = 'SUCCEEDED' AND objective_value IS NOT NULL
           ORDER BY objective_value ${order}, created_position LIMIT ?`,
      ).all(experimentId, first) as { id: string }[]
    ).map((row) => row.id);
  }

  /** The next trial slot as far as this read model knows (others may be taken meanwhile). */
  nextTrialIndex(experimentId: string): number {
    const max = this.maxTrial.get(experimentId)?.max;
    return max === null || max === undefined ? 0 : max + 1;
  }

  /**
   * The objective metric's points of each SUCCEEDED job: what the median rule
   * compares with, on every report. Read once per experiment, then kept up to
   * date by `noteApplied` as jobs enter or leave SUCCEEDED, instead of read
   * again (it grows with every trial).
   */
  completedIntermediates(experimentId: string, metric: string): Map<number, number>[] {
    let cached = this.completedByExperiment.get(experimentId);
    if (cached?.metric !== metric) {
      const byJob = new Map<string, Map<number, number>>();
      for (const { job_id, step, value } of this.completedPoints.all(metric, experimentId)) {
        let points = byJob.get(job_id);
        if (!points) byJob.set(job_id, (points = new Map<number, number>()));
        if (step !== null && value !== null) points.set(step, value);
      }
      cached = { metric, byJob };
      this.completedByExperiment.set(experimentId, cached);
    }
    return [...cached.byJob.values()];
  }

  /**
   * Called by the projection runner after each batch is in the read models,
   * before anyone waiting for it is answered: keeps the completed-points cache
   * exactly as a fresh read would be.
   */
  noteApplied(batch: readonly RecordedEvent[]): void {
    if (this.completedByExperiment.size === 0) return;
    for (const event of batch) {
      if (event.type !== 'JobCompleted' && event.type !== 'JobRetrained' && event.type !== 'JobRetried') continue;
      const jobId = jobKind.idOf(event.streamId);
      const job = this.jobPlace.get(jobId);
      const cached = job?.experiment_id ? this.completedByExperiment.get(job.experiment_id) : undefined;
      if (!cached) continue;
      if (job!.status === 'SUCCEEDED') cached.byJob.set(jobId, this.intermediates(jobId, cached.metric));
      else cached.byJob.delete(jobId);
    }
  }

  private readonly completedByExperiment = new Map<
    string,
    { metric: string; byJob: Map<string, Map<number, number>> }
  >();

  intermediates(jobId: string, metric: string): Map<number, number> {
    return new Map(this.jobPoints.all(jobId, metric).map((p) => [p.step, p.value]));
  }

  /**
   * What the early-stopping rules read of a job's series before a report, in
   * three seeks whatever its length: its range of values from the series
   * index, its two largest steps, and (asked per step of the report that is
   * not past them) whether a step is in it.
   */
  seriesBefore(jobId: string, metric: string): SeriesBefore {
    const range = this.seriesRange.get(jobId, metric);
    if (!range) return EMPTY_SERIES;
    const top = this.largestSteps.all(jobId, metric);
    const last = top[0]?.step ?? -1;
    return {
      top,
      min: range.min,
      max: range.max,
      has: (step) => step <= last && this.pointAt.get(jobId, metric, step) !== undefined,
    };
  }

  /** Values other jobs of the experiment recorded at a rung, whatever became of them. */
  rungValues(experimentId: string, rung: number, exceptJobId: string): number[] {
    return this.rungValuesOfOthers.all(experimentId, rung, exceptJobId).map((r) => r.value);
  }

  /** `rungValues` with each value's job and trial slot (Hyperband keeps those of one bracket). */
  rungValuesWithTrials(
    experimentId: string,
    rung: number,
    exceptJobId: string,
  ): { value: number; jobId: string; trialIndex: number | null }[] {
    return this.rungValuesWithTrialsOf
      .all(experimentId, rung, exceptJobId)
      .map((r) => ({ value: r.value, jobId: r.job_id, trialIndex: r.trial_index }));
  }

  /** The largest step of `metric` reported by the experiment's first job to succeed with a report of it. */
  firstCompletedLastStep(experimentId: string, metric: string): number | null {
    return this.firstCompletedLastStepOf.get(metric, experimentId)?.last ?? null;
  }

  /** Every job in a trial slot, with what schedulers need of it. */
  trialJobs(experimentId: string): TrialJob[] {
    return this.trialJobsOf.all(experimentId).map(trialJobOf);
  }

  /** The trials of a TPE search that its proposals weigh, with the objective `metric`'s last report. */
  /** The trials TPE weighs, each with the values of the parameters `names` only. */
  tpeTrials(experimentId: string, metric: string, names: readonly string[]): TpeTrialRow[] {
    const values = new Map<number, Record<string, Json>>();
    for (const row of this.trialValuesOf.iterate(experimentId, JSON.stringify(names))) {
      let params = values.get(row.trial_index);
      if (!params) values.set(row.trial_index, (params = {}));
      params[row.name] = trialValueOf(row);
    }
    return this.tpeTrialsOf.all(metric, experimentId).map((row) => ({
      id: row.id,
      trialIndex: row.trial_index,
      status: row.status,
      objectiveValue: row.objective_value,
      hyperparameters: values.get(row.trial_index) ?? {},
      leaseExpiresAt: row.lease_expires_at,
      lastReport: row.last_step === null ? null : { step: row.last_step, value: row.last_value! },
    }));
  }

  /** The lowest trial slot without a job (a slot left empty by a failed creation is offered again). */
  firstFreeSlot(experimentId: string): number {
    if (this.trialCount(experimentId) === this.nextTrialIndex(experimentId)) return this.nextTrialIndex(experimentId);
    let expected = 0;
    for (const { trial_index } of this.trialIndexes.all(experimentId)) {
      if (trial_index !== expected) return expected;
      expected++;
    }
    return expected;
  }

  /** How many trial slots have a job (slots may be filled out of order). */
  trialCount(experimentId: string): number {
    return this.trialCountOf.get(experimentId)?.count ?? 0;
  }

  unfinishedJobIds(experimentId: string): string[] {
    return this.unfinishedJobs.all(experimentId).map((r) => r.id);
  }
}
