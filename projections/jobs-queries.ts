/**
 * Reads of the jobs read model. Every list is keyset-paginated: on the
 * creation position (oldest first by default), or on a sort column and then
 * the creation position, so pages stay stable while jobs are added.
 */
import type { Database } from 'better-sqlite3';
import { statementCache, type PreparedBySql } from '../src/sqlite-statement-cache.js';
import type { JobStatus, LogStream } from '../src/domain/job/events.js';
import type { JobState } from '../src/domain/job/state.js';
import type { LightJobState } from './job-row.js';
import { MetricQueries } from './metrics-queries.js';

/** A job as the API shows it: its state (large fields included, read when used), plus where its stream stands. */
export interface JobView extends JobState {
  trainingData: Exclude<JobState['trainingData'], undefined>;
  result: Exclude<JobState['result'], undefined>;
  artifacts: Exclude<JobState['artifacts'], undefined>;
  /** Revision of the job's stream after its last event. */
  revision: number;
  /** The experiment objective's value for this job, when known. */
  objectiveValue: number | null;
  /** Set when this is the job as it stood in the past (`jobAt`). */
  asOfRevision?: number;
}

export interface JobFilter {
  status?: readonly JobStatus[] | null;
  experimentId?: string | null;
  workerId?: string | null;
  algorithmId?: string | null;
  label?: string | null;
}

/** How `jobs` orders its list: by creation, priority or objective value, then by creation in the same direction. */
export interface JobOrder {
  field: 'CREATED' | 'PRIORITY' | 'OBJECTIVE';
  direction: 'ASC' | 'DESC';
}

export const DEFAULT_JOB_ORDER: JobOrder = { field: 'CREATED', direction: 'ASC' };

/** Where a page of `jobs` starts: after this job. `value` is the sort column's (absent when ordered by creation). */
export interface JobCursor {
  position: string;
  value?: number | null;
}

/** The sort columns; jobs without a value (objective) come last either way. */
const ORDER_COLUMN = { PRIORITY: 'priority', OBJECTIVE: 'objective_value' } as const;

export interface Page<T, C = string> {
  items: { cursor: C; node: T }[];
  hasNextPage: boolean;
}

export interface ClaimFilter {
  experimentId: string | null;
  algorithmIds: readonly string[] | null;
  labels: readonly string[];
  now: string;
  limit: number;
}

export interface MetricPointRow {
  step: number;
  value: number;
  timestamp: string;
}

export interface LogLineRow {
  offset: number;
  stream: LogStream;
  text: string;
  timestamp: string;
}

interface JobRow {
  id: string;
  state: string;
  revision: number;
  priority: number;
  objective_value: number | null;
  created_position: string;
}

const JOB_COLUMNS = 'id, state, revision, priority, objective_value, created_position';

type LargeField = 'trainingData' | 'result' | 'artifacts';

/** A job's complete state at a revision of its stream: what a command may start folding from. */
export interface JobSnapshot {
  state: JobState;
  revision: number;
  position: string;
  lastEventId: string;
}

export class JobQueries {
  private readonly byId;
  private readonly experimentOfJob;
  private readonly largeField: Record<LargeField, (id: string) => unknown>;
  private readonly snapshotOf;
  private readonly linesAfter;
  /** A job's metric series, read a page or a bucket at a time. */
  readonly metrics: MetricQueries;

  /** Queries whose SQL is built per call, prepared once per shape. */
  private readonly prepared: PreparedBySql;

  constructor(db: Database) {
    this.prepared = statementCache(db);
    this.byId = db.prepare<[string], JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`);
    this.experimentOfJob = db.prepare<[string], { experiment_id: string | null }>(
      'SELECT experiment_id FROM jobs WHERE id = ?',
    );
    this.metrics = new MetricQueries(db);
    const column = <T>(sql: string, parse: (text: string | null | undefined) => T) => {
      const statement = db.prepare<[string], { value: string | null }>(sql);
      return (id: string) => parse(statement.get(id)?.value);
    };
    this.largeField = {
      trainingData: column('SELECT training_data AS value FROM job_large_fields WHERE job_id = ?', (text) =>
        text == null ? null : (JSON.parse(text) as unknown),
      ),
      result: column('SELECT result AS value FROM job_large_fields WHERE job_id = ?', (text) =>
        text == null ? null : (JSON.parse(text) as unknown),
      ),
      artifacts: column('SELECT artifacts AS value FROM job_large_fields WHERE job_id = ?', (text) =>
        text == null ? [] : (JSON.parse(text) as unknown),
      ),
    };
    this.snapshotOf = db.prepare<[string], JobRow & { last_position: string; last_event_id: string }>(
      `SELECT ${JOB_COLUMNS}, last_position, last_event_id FROM jobs WHERE id = ?`,
    );
    this.linesAfter = db.prepare<[string, number, number, number], LogLineRow>(
      'SELECT offset, stream, text, timestamp FROM log_lines WHERE job_id = ? AND offset > ? AND offset < ? ORDER BY offset LIMIT ?',
    );
  }

  job(id: string): JobView | undefined {
    const row = this.byId.get(id);
    return row ? this.toView(row) : undefined;
  }

  /**
   * The job's state as the read model has folded it (the same `evolve` as the
   * domain's), with where its stream stood: what a command starts from. The
   * large fields are left out; no decision reads them.
   */
  snapshot(id: string): JobSnapshot | undefined {
    const row = this.snapshotOf.get(id);
    if (!row) return undefined;
    return {
      state: JSON.parse(row.state) as LightJobState,
      revision: row.revision,
      position: row.last_position,
      lastEventId: row.last_event_id,
    };
  }

  /**
   * The light state parsed; each large field read from its column on first
   * access only, so a list that shows ids and statuses never reads them.
   */
  private toView(row: JobRow): JobView {
    const view = {
      ...(JSON.parse(row.state) as LightJobState),
      revision: row.revision,
      objectiveValue: row.objective_value,
    };
    // Read on each access, not kept: a view held for long (a live payload waiting for a slow subscriber)
    // pins no training data. A job that changed since the row was read shows its newer large fields.
    for (const [field, read] of Object.entries(this.largeField) as [LargeField, (id: string) => unknown][]) {
      Object.defineProperty(view, field, { enumerable: true, configurable: true, get: () => read(row.id) });
    }
    return view as JobView;
  }

  /**
   * The experiment a job belongs to (null: none; undefined: no such job), from
   * its own column: live subscription filters ask this of jobs that change and
   * must not read a job's state to answer.
   */
  experimentIdOf(jobId: string): string | null | undefined {
    return this.experimentOfJob.get(jobId)?.experiment_id;
  }

  /** The jobs a worker holds right now (few: one per slot). */
  runningJobsOf(workerId: string): JobView[] {
    return (
      this.prepared(`SELECT ${JOB_COLUMNS} FROM jobs WHERE worker_id = ? AND status = 'RUNNING'`).all(
        workerId,
      ) as JobRow[]
    ).map((row) => this.toView(row));
  }

  jobs(
    filter: JobFilter,
    first: number,
    after: JobCursor | undefined,
    order: JobOrder = DEFAULT_JOB_ORDER,
  ): Page<JobView, JobCursor> & { totalCount: number } {
    const { where, params } = jobWhere(filter);
    const { orderBy, afterCursor, cursorOf } = orderSql(order);
    const page = after === undefined ? undefined : afterCursor(after);
    const pageWhere = page ? [...where, page.where] : where;
    const pageParams = page ? [...params, ...page.params] : params;
    // Sorted and cut by SQLite (a top-N sort, or an index walk): a page never loads the jobs before or after it.
    const rows = this.prepared(
      `SELECT ${JOB_COLUMNS} FROM jobs ${whereSql(pageWhere)} ORDER BY ${orderBy} LIMIT ?`,
    ).all(...pageParams, first + 1) as JobRow[];
    const { count } = this.prepared(`SELECT count(*) AS count FROM jobs ${whereSql(where)}`).get(...params) as {
      count: number;
    };
    return {
      items: rows.slice(0, first).map((row) => ({ cursor: cursorOf(row), node: this.toView(row) })),
      hasNextPage: rows.length > first,
      totalCount: count,
    };
  }

  /**
   * Jobs a worker may claim, best first: queued jobs and running jobs whose
   * lease has expired, by priority (highest first), then age (oldest first).
   * The read model may lag the log: callers re-check each one on its stream.
   */
  claimCandidates(filter: ClaimFilter): string[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.experimentId !== null) {
      where.push('experiment_id = ?');
      params.push(filter.experimentId);
    } else {
      // An experiment's jobs are handed out only by claims that name it, so that its
      // pause, finish and maxConcurrent hold.
      where.push('experiment_id IS NULL');
    }
    if (filter.algorithmIds !== null) {
      where.push(`algorithm_id IN (${filter.algorithmIds.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...filter.algorithmIds);
    }
    // The job's labels must all be among the worker's. (`NOT IN (NULL)` is never true,
    // so a worker without labels needs its own clause: it takes only unlabelled jobs.)
    const outsideWorkerLabels =
      filter.labels.length === 0 ? '' : ` AND l.label NOT IN (${filter.labels.map(() => '?').join(', ')})`;
    where.push(`NOT EXISTS (SELECT 1 FROM job_labels l WHERE l.job_id = jobs.id${outsideWorkerLabels})`);
    params.push(...filter.labels);
    const extra = where.map((w) => ` AND ${w}`).join('');
    const queued = this.prepared(
      `SELECT id, priority, created_position FROM jobs WHERE status = 'QUEUED'${extra}
         ORDER BY priority DESC, created_position LIMIT ?`,
    ).all(...params, filter.limit) as { id: string; priority: number; created_position: string }[];
    const expired = this.prepared(
      `SELECT id, priority, created_position FROM jobs WHERE status = 'RUNNING' AND lease_expires_at <= ?${extra}
         ORDER BY priority DESC, created_position LIMIT ?`,
    ).all(filter.now, ...params, filter.limit) as typeof queued;
    return [...queued, ...expired]
      .sort((a, b) => b.priority - a.priority || (a.created_position < b.created_position ? -1 : 1))
      .slice(0, filter.limit)
      .map((row) => row.id);
  }

  /** Lines after an offset, oldest first; `endOffset` (exclusive) bounds a past job's log. */
  logLines(jobId: string, afterOffset: number, limit: number, endOffset = Number.MAX_SAFE_INTEGER): LogLineRow[] {
    return this.linesAfter.all(jobId, afterOffset, endOffset, limit);
  }
}

function jobWhere(filter: JobFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status && filter.status.length > 0) {
    where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
    params.push(...filter.status);
  }
  for (const [column, value] of [
    ['experiment_id', filter.experimentId],
    ['worker_id', filter.workerId],
    ['algorithm_id', filter.algorithmId],
  ] as const) {
    if (value !== undefined && value !== null) {
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (filter.label !== undefined && filter.label !== null) {
    where.push('id IN (SELECT job_id FROM job_labels WHERE label = ?)');
    params.push(filter.label);
  }
  return { where, params };
}

/**
 * ORDER BY for an order, the keyset condition for the page after a cursor,
 * and each row's cursor. Ties go by creation in the same direction; a job
 * without a value sorts after every job with one (SQLite would put NULL first
 * in ascending order, ahead of the jobs a person is looking for).
 */
function orderSql(order: JobOrder): {
  orderBy: string;
  afterCursor(cursor: JobCursor): { where: string; params: unknown[] };
  cursorOf(row: JobRow): JobCursor;
} {
  const direction = order.direction === 'ASC' ? 'ASC' : 'DESC';
  const beyond = direction === 'ASC' ? '>' : '<';
  if (order.field === 'CREATED') {
    return {
      orderBy: `created_position ${direction}`,
      afterCursor: (cursor) => ({ where: `created_position ${beyond} ?`, params: [cursor.position] }),
      cursorOf: (row) => ({ position: row.created_position }),
    };
  }
  const column = ORDER_COLUMN[order.field];
  // Priority is never null: no null clauses, so its index serves the order and the keyset.
  const nullable = order.field === 'OBJECTIVE';
  const valueOf = (row: JobRow) => (nullable ? row.objective_value : row.priority);
  return {
    orderBy: `${nullable ? `(${column} IS NULL), ` : ''}${column} ${direction}, created_position ${direction}`,
    afterCursor: ({ value, position }) => {
      if (value === null || value === undefined) {
        return { where: `(${column} IS NULL AND created_position ${beyond} ?)`, params: [position] };
      }
      const later = `${column} ${beyond} ? OR (${column} = ? AND created_position ${beyond} ?)`;
      return { where: nullable ? `(${column} IS NULL OR ${later})` : `(${later})`, params: [value, value, position] };
    },
    cursorOf: (row) => ({ position: row.created_position, value: valueOf(row) }),
  };
}

function whereSql(where: string[]): string {
  return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
}
