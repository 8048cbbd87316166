/**
 * The GraphQL documents the client sends, and the TypeScript shapes of what
 * they answer. `test/api/client.test.ts` validates every document here against
 * the printed schema, so a field renamed on the server fails a test rather
 * than a worker in production.
 */

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'PRUNED';
export type ExperimentStatus = 'RUNNING' | 'PAUSED' | 'DONE';
export type LogStream = 'STDOUT' | 'STDERR';
export type JsonObject = { [key: string]: unknown };

export interface Artifact {
  name: string;
  uri: string;
  sha256: string | null;
  metadata: JsonObject | null;
}

/** What lists show of a job. */
export interface JobSummary {
  id: string;
  status: JobStatus;
  experiment: { id: string; name: string } | null;
  hyperparameters: JsonObject;
  attempts: number;
  maxAttempts: number;
  workerId: string | null;
  progress: number | null;
  objectiveValue: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

const JOB_SUMMARY = `
  id status experiment { id name } hyperparameters attempts maxAttempts workerId progress objectiveValue
  createdAt startedAt finishedAt error`;

/** What a worker needs to run a job. */
export interface ClaimedJob {
  id: string;
  status: JobStatus;
  experiment: { id: string; name: string } | null;
  hyperparameters: JsonObject;
  params: JsonObject;
  labels: string[];
  attempts: number;
  maxAttempts: number;
  generation: number;
  parent: { id: string; artifacts: Artifact[] } | null;
}

export interface JobClaim {
  job: ClaimedJob;
  leaseToken: string;
  leaseExpiresAt: string;
}

export interface Lease {
  leaseToken: string;
  leaseExpiresAt: string;
  cancelRequested: boolean;
}

export interface MetricSeries {
  name: string;
  last: { step: number; value: number; timestamp: string } | null;
  points?: { step: number; value: number; timestamp: string }[];
}

/** Everything `trialog job <id>` shows. */
export interface JobDetail extends JobSummary {
  params: JsonObject;
  labels: string[];
  priority: number;
  generation: number;
  parent: { id: string } | null;
  leaseExpiresAt: string | null;
  result: JsonObject | null;
  artifacts: Artifact[];
  metrics: MetricSeries[];
  /** Revision of the job's stream after its last event. */
  revision: number;
  /** Why its experiment's early-stopping rule pruned it (null unless PRUNED). */
  pruning: PruningDecision | null;
}

export interface PruningDecision {
  rule: string;
  step: number;
  value: number;
  threshold: number | null;
  comparedTrials: number | null;
  rung: number | null;
}

/** One event of a job's history, as `jobHistoryTail` reads it. */
export interface JobHistoryEvent {
  type: string;
  revision: number;
  timestamp: string;
  data: unknown;
  metadata: JsonObject;
}

export interface LogLine {
  offset: number;
  stream: LogStream;
  text: string;
  timestamp: string;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount?: number;
}

export interface JobCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  pruned: number;
  total: number;
}

export interface ExperimentSummary {
  id: string;
  name: string;
  description: string | null;
  status: ExperimentStatus;
  scheduler: 'MANUAL' | 'RANDOM' | 'GRID' | 'PBT';
  objective: { metric: string; direction: 'MINIMIZE' | 'MAXIMIZE' } | null;
  maxJobs: number | null;
  maxConcurrent: number | null;
  stopThreshold: number | null;
  createdAt: string;
  jobCounts: JobCounts;
  bestJob: { id: string; objectiveValue: number | null; hyperparameters: JsonObject } | null;
}

const EXPERIMENT_SUMMARY = `
  id name description status scheduler objective { metric direction } maxJobs maxConcurrent stopThreshold createdAt
  jobCounts { queued running succeeded failed cancelled pruned total }
  bestJob { id objectiveValue hyperparameters }`;

export interface ExperimentDetail extends ExperimentSummary {
  config: JsonObject;
  leaderboard: JobSummary[];
}

export interface JobStatusChange {
  job: { id: string; experiment: { id: string } | null };
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  position: string;
}

export const documents = {
  ping: `query Ping { __typename }`,
  claimJob: `mutation ClaimJob($input: ClaimJobInput!) {
    claimJob(input: $input) {
      leaseToken leaseExpiresAt
      job { id status experiment { id name } hyperparameters params labels attempts maxAttempts generation
            parent { id artifacts { name uri sha256 metadata } } }
    }
  }`,
  heartbeat: `mutation Heartbeat($input: HeartbeatInput!) {
    heartbeat(input: $input) { leaseToken leaseExpiresAt cancelRequested }
  }`,
  reportMetrics: `mutation ReportMetrics($input: ReportMetricsInput!) {
    reportMetrics(input: $input) { shouldStop }
  }`,
  reportMetric: `mutation ReportMetric($input: ReportMetricInput!) {
    reportMetric(input: $input) { shouldStop }
  }`,
  appendLog: `mutation AppendLog($input: AppendLogInput!) {
    appendLog(input: $input) { firstOffset nextOffset }
  }`,
  completeJob: `mutation CompleteJob($input: CompleteJobInput!) { completeJob(input: $input) { ${JOB_SUMMARY} } }`,
  failJob: `mutation FailJob($input: FailJobInput!) { failJob(input: $input) { ${JOB_SUMMARY} } }`,
  releaseJob: `mutation ReleaseJob($input: ReleaseJobInput!) { releaseJob(input: $input) { ${JOB_SUMMARY} } }`,
  cancelJob: `mutation CancelJob($input: CancelJobInput!) { cancelJob(input: $input) { ${JOB_SUMMARY} } }`,
  createJob: `mutation CreateJob($input: CreateJobInput!) { createJob(input: $input) { ${JOB_SUMMARY} } }`,
  createExperiment: `mutation CreateExperiment($input: CreateExperimentInput!) {
    createExperiment(input: $input) { ${EXPERIMENT_SUMMARY} }
  }`,
  job: `query Job($id: ID!) {
    job(id: $id) {
      ${JOB_SUMMARY}
      params labels priority generation parent { id } leaseExpiresAt result revision
      pruning { rule step value threshold comparedTrials rung }
      artifacts { name uri sha256 metadata }
      metrics { name last { step value timestamp } }
    }
  }`,
  jobHistory: `query JobHistory($id: ID!, $first: Int, $after: String) {
    job(id: $id) { history(first: $first, after: $after) { edges { node { type revision timestamp data metadata } } } }
  }`,
  jobMetrics: `query JobMetrics($id: ID!, $names: [String!]) {
    job(id: $id) { metrics(names: $names) { name last { step value timestamp } } }
  }`,
  jobMetricPointsPage: `query JobMetricPoints($id: ID!, $name: String!, $first: Int, $after: String) {
    job(id: $id) {
      metrics(names: [$name]) {
        pointsPage(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { step value timestamp } } }
      }
    }
  }`,
  jobs: `query Jobs($filter: JobFilter, $first: Int, $after: String, $orderBy: JobOrder) {
    jobs(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${JOB_SUMMARY} } }
    }
  }`,
  jobLogsPage: `query JobLogs($id: ID!, $first: Int, $after: String) {
    job(id: $id) {
      status
      logs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { offset stream text timestamp } } }
    }
  }`,
  experiment: `query Experiment($id: ID, $name: String, $top: Int) {
    experiment(id: $id, name: $name) { ${EXPERIMENT_SUMMARY} config leaderboard(first: $top) { ${JOB_SUMMARY} } }
  }`,
  pauseExperiment: `mutation PauseExperiment($input: ExperimentStatusInput!) { pauseExperiment(input: $input) { ${EXPERIMENT_SUMMARY} } }`,
  resumeExperiment: `mutation ResumeExperiment($input: ExperimentStatusInput!) { resumeExperiment(input: $input) { ${EXPERIMENT_SUMMARY} } }`,
  finishExperiment: `mutation FinishExperiment($input: ExperimentStatusInput!) { finishExperiment(input: $input) { ${EXPERIMENT_SUMMARY} } }`,
  experiments: `query Experiments($status: ExperimentStatus, $first: Int, $after: String) {
    experiments(status: $status, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor } edges { cursor node { ${EXPERIMENT_SUMMARY} } }
    }
  }`,
  jobLogsSubscription: `subscription FollowLogs($jobId: ID!, $afterOffset: Int) {
    jobLogs(jobId: $jobId, afterOffset: $afterOffset) { offset stream text timestamp }
  }`,
  jobLogBatchesSubscription: `subscription FollowLogBatches($jobId: ID!, $afterOffset: Int) {
    jobLogBatches(jobId: $jobId, afterOffset: $afterOffset) { lines { offset stream text timestamp } }
  }`,
  jobStatusChangedSubscription: `subscription StatusChanges($experimentId: ID, $status: [JobStatus!]) {
    jobStatusChanged(experimentId: $experimentId, status: $status) {
      job { id experiment { id } } from to at position
    }
  }`,
  jobUpdatedSubscription: `subscription JobUpdated($id: ID!) { jobUpdated(id: $id) { ${JOB_SUMMARY} } }`,
  experimentUpdatedSubscription: `subscription ExperimentUpdated($id: ID!) { experimentUpdated(id: $id) { ${EXPERIMENT_SUMMARY} } }`,
} as const;
