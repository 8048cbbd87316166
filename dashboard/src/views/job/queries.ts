// The job page's GraphQL documents and the shapes they answer. A past job (time travel) is read
// with the same fields through `jobAt`, so every part of the page can show either.
import type { LogLine } from '../../logic/log-buffer';
import type { MetricBucket } from '../../logic/metric-buckets';
import type { PruningDecision } from '../../logic/pruning';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'PRUNED';

export interface SeriesSummaryFields {
  name: string;
  count: number;
  firstStep: number;
  lastStep: number;
}

export interface JobFields {
  id: string;
  status: JobStatus;
  priority: number;
  labels: string[];
  attempts: number;
  maxAttempts: number;
  workerId: string | null;
  leaseExpiresAt: string | null;
  progress: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  result: Record<string, unknown> | null;
  params: Record<string, unknown>;
  hyperparameters: Record<string, unknown>;
  objectiveValue: number | null;
  generation: number;
  revision: number;
  logLength: number;
  algorithmId: string | null;
  algorithmVersion: number | null;
  artifacts: { name: string; uri: string; sha256: string | null; metadata: Record<string, unknown> | null }[];
  experiment: {
    id: string;
    name: string;
    objective: { metric: string; direction: 'MINIMIZE' | 'MAXIMIZE' } | null;
  } | null;
  parent: { id: string } | null;
  pruning: PruningDecision | null;
  metrics: SeriesSummaryFields[];
}

const JOB_FIELDS = `
  id status priority labels attempts maxAttempts workerId leaseExpiresAt progress
  createdAt startedAt finishedAt error result params hyperparameters objectiveValue generation revision logLength
  algorithmId algorithmVersion
  artifacts { name uri sha256 metadata }
  experiment { id name objective { metric direction } }
  parent { id }
  pruning { rule step value threshold comparedTrials rung }
  metrics { name count firstStep lastStep }
`;

export const JOB_QUERY = `query JobPage($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
export const JOB_AT_QUERY = `query JobPageAt($id: ID!, $revision: Int!) { jobAt(id: $id, revision: $revision) { ${JOB_FIELDS} } }`;
export const JOB_UPDATED = `subscription JobPageUpdated($id: ID!, $afterRevision: Int) { jobUpdated(id: $id, afterRevision: $afterRevision) { ${JOB_FIELDS} } }`;

/** `job` or `jobAt`, aliased `job`, with the same selection: the live job or the job at a revision. */
function jobOrPast(selection: string, extraVariables = ''): string {
  return `query($id: ID!, $revision: Int!, $past: Boolean!${extraVariables}) {
    live: job(id: $id) @skip(if: $past) { ${selection} }
    past: jobAt(id: $id, revision: $revision) @include(if: $past) { ${selection} }
  }`;
}

export interface JobOrPast<T> {
  live?: T | null;
  past?: T | null;
}

/** Variables for `jobOrPast`: the revision only when looking at the past. */
export function jobOrPastVariables(id: string, revision: number | null): Record<string, unknown> {
  return { id, revision: revision ?? 0, past: revision !== null };
}

export const BUCKETS_QUERY = jobOrPast(
  `metrics(names: [$name]) { name count firstStep lastStep buckets(count: $count, fromStep: $fromStep, toStep: $toStep) {
    fromStep toStep count min max last { step value } } }`,
  ', $name: String!, $count: Int!, $fromStep: Int, $toStep: Int',
);
export type BucketsAnswer = JobOrPast<{ metrics: (SeriesSummaryFields & { buckets: MetricBucket[] })[] }>;

export const LOG_PAGE_QUERY = jobOrPast(
  'logLength logs(first: $first, after: $after) { edges { node { offset stream text timestamp } } }',
  ', $first: Int!, $after: String',
);
export type LogPageAnswer = JobOrPast<{ logLength: number; logs: { edges: { node: LogLine }[] } }>;

export const LOG_LENGTH_QUERY = jobOrPast('logLength');
export type LogLengthAnswer = JobOrPast<{ logLength: number }>;

// A batch at a time (a page of the log, then each append's lines): one message per append, not per line.
export const JOB_LOGS = `subscription JobPageLogs($jobId: ID!, $afterOffset: Int) {
  jobLogBatches(jobId: $jobId, afterOffset: $afterOffset) { lines { offset stream text timestamp } }
}`;

export interface HistoryEvent {
  id: string;
  type: string;
  revision: number;
  timestamp: string;
  position: string;
  metadata: { actor?: string; correlationId?: string; causationId?: string; [key: string]: unknown };
  data: unknown;
}

export const HISTORY_QUERY = `query JobPageHistory($id: ID!, $first: Int!, $after: String) {
  job(id: $id) { revision history(first: $first, after: $after) {
    edges { cursor node { id type revision timestamp position metadata data } }
    pageInfo { hasNextPage endCursor }
  } }
}`;
export interface HistoryAnswer {
  job: {
    revision: number;
    history: {
      edges: { cursor: string; node: HistoryEvent }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}

export const CANCEL_JOB = `mutation JobPageCancel($jobId: ID!) { cancelJob(input: { jobId: $jobId, reason: "cancelled from the dashboard" }) { id status } }`;
export const RETRY_JOB = `mutation JobPageRetry($jobId: ID!) { retryJob(input: { jobId: $jobId }) { id status } }`;
