/**
 * How a job is laid out in the jobs read model: a light state (everything a
 * list, a filter or a command needs) as JSON in the `jobs` row, and the large
 * fields in a table of their own (`job_large_fields`), each column read only
 * when asked for. A list of a thousand jobs then never parses a megabyte of
 * training data per row, and SQLite, which reads and rewrites a row whole,
 * never walks one to read a status or to record a heartbeat.
 */
import type { JobState } from '../src/domain/job/state.js';

/** The fields that may be large (training data up to 1 MiB, a result, a hundred artifacts). */
export const HEAVY_JOB_FIELDS = ['trainingData', 'result', 'artifacts'] as const;
export type HeavyJobField = (typeof HEAVY_JOB_FIELDS)[number];

/** A job's state without its large fields: what the `state` column holds. */
export type LightJobState = Omit<JobState, HeavyJobField>;
