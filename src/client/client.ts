/**
 * The typed Trialog client: one method per operation the worker, the command
 * line and the tests use. Queries and mutations go over HTTP (retried on
 * network failures, never on an answer); subscriptions over graphql-ws
 * (resumed after a lost connection).
 *
 *   const trialog = new TrialogClient({ url: 'http://localhost:4000/graphql', key });
 *   const claim = await trialog.claimJob({ workerId: 'gpu-1', labels: ['gpu'] });
 */
import type { Client } from 'graphql-ws';
import { NotFoundError } from './errors.js';
import { graphqlRequest, type CallControl, type HttpOptions } from './http.js';
import {
  documents,
  type Connection,
  type ExperimentDetail,
  type ExperimentStatus,
  type ExperimentSummary,
  type JobClaim,
  type JobDetail,
  type JobHistoryEvent,
  type JobStatus,
  type JobStatusChange,
  type JobSummary,
  type JsonObject,
  type Lease,
  type LogLine,
  type LogStream,
  type MetricSeries,
} from './operations.js';
import { resumingSubscription, webSocketClient, type SubscriptionOptions } from './subscriptions.js';

export * from './errors.js';
export type * from './operations.js';
export type { CallControl, RetryPolicy } from './http.js';

export type ClientOptions = HttpOptions;

type MetricPointPage = Connection<NonNullable<MetricSeries['points']>[number]>;

/** Per call: cancel it, stop its retries, or retry it differently (a worker's reports retry until the server is back). */
export type CallOptions = CallControl;

export interface ClaimJobInput {
  workerId: string;
  experimentId?: string;
  algorithmIds?: string[];
  labels?: string[];
  leaseSeconds?: number;
  /** Your own random token (32+ characters): resending the claim with it after a lost answer gets the same job. */
  leaseToken?: string;
}

export interface MetricPointInput {
  name: string;
  value: number;
  step?: number;
  timestamp?: string;
}

export interface JobFilter {
  status?: JobStatus[];
  experimentId?: string;
  workerId?: string;
  algorithmId?: string;
  label?: string;
}

/** How a job list is ordered: by one field, then by creation in the same direction. Oldest first when absent. */
export interface JobOrder {
  field: 'CREATED' | 'PRIORITY' | 'OBJECTIVE';
  direction: 'ASC' | 'DESC';
}

export interface ArtifactInput {
  name: string;
  uri: string;
  sha256?: string;
  metadata?: JsonObject;
}

export interface LeaseInput {
  jobId: string;
  leaseToken: string;
}

export class TrialogClient {
  private ws: Client | undefined;

  constructor(readonly options: ClientOptions) {}

  /** Resolves once the server answers (and the key is accepted); throws as any call would otherwise. */
  async ping(call?: CallOptions): Promise<void> {
    await this.request<{ __typename: string }>(documents.ping, {}, call);
  }

  // ------------------------------------------------------------ the worker's calls

  async claimJob(input: ClaimJobInput, call?: CallOptions): Promise<JobClaim | null> {
    return (await this.request<{ claimJob: JobClaim | null }>(documents.claimJob, { input }, call)).claimJob;
  }

  async heartbeat(
    input: LeaseInput & { progress?: number; leaseSeconds?: number },
    call?: CallOptions,
  ): Promise<Lease> {
    return (await this.request<{ heartbeat: Lease }>(documents.heartbeat, { input }, call)).heartbeat;
  }

  /** `sequence` numbers the call under this lease: a retry with the same number writes nothing twice. */
  async reportMetrics(
    input: LeaseInput & { points: MetricPointInput[]; sequence?: number },
    call?: CallOptions,
  ): Promise<{ shouldStop: boolean }> {
    return (await this.request<{ reportMetrics: { shouldStop: boolean } }>(documents.reportMetrics, { input }, call))
      .reportMetrics;
  }

  async reportMetric(
    input: LeaseInput & MetricPointInput & { sequence?: number },
    call?: CallOptions,
  ): Promise<{ shouldStop: boolean }> {
    return (await this.request<{ reportMetric: { shouldStop: boolean } }>(documents.reportMetric, { input }, call))
      .reportMetric;
  }

  async appendLog(
    input: LeaseInput & { lines: string[]; stream?: LogStream; sequence?: number },
    call?: CallOptions,
  ): Promise<{ firstOffset: number; nextOffset: number }> {
    return (
      await this.request<{ appendLog: { firstOffset: number; nextOffset: number } }>(
        documents.appendLog,
        { input },
        call,
      )
    ).appendLog;
  }

  async completeJob(
    input: LeaseInput & { result?: JsonObject | null; artifacts?: ArtifactInput[] },
    call?: CallOptions,
  ): Promise<JobSummary> {
    return (await this.request<{ completeJob: JobSummary }>(documents.completeJob, { input }, call)).completeJob;
  }

  async failJob(input: LeaseInput & { error: string; retry?: boolean }, call?: CallOptions): Promise<JobSummary> {
    return (await this.request<{ failJob: JobSummary }>(documents.failJob, { input }, call)).failJob;
  }

  /** Hands a job back unfinished: queued again, the attempt not counted. */
  async releaseJob(input: LeaseInput & { reason?: string }, call?: CallOptions): Promise<JobSummary> {
    return (await this.request<{ releaseJob: JobSummary }>(documents.releaseJob, { input }, call)).releaseJob;
  }

  // ------------------------------------------------------------ people's calls

  async createJob(input: JsonObject, call?: CallOptions): Promise<JobSummary> {
    return (await this.request<{ createJob: JobSummary }>(documents.createJob, { input }, call)).createJob;
  }

  async cancelJob(input: { jobId: string; reason?: string }, call?: CallOptions): Promise<JobSummary> {
    return (await this.request<{ cancelJob: JobSummary }>(documents.cancelJob, { input }, call)).cancelJob;
  }

  async job(id: string, call?: CallOptions): Promise<JobDetail | null> {
    return (await this.request<{ job: JobDetail | null }>(documents.job, { id }, call)).job;
  }

  /** The last `count` events of a job's history (up to its `revision`), oldest first. */
  async jobHistoryTail(id: string, revision: number, count: number, call?: CallOptions): Promise<JobHistoryEvent[]> {
    const from = revision - count; // history's cursor is a revision: the page starts after it
    const { job } = await this.request<{ job: { history: { edges: { node: JobHistoryEvent }[] } } | null }>(
      documents.jobHistory,
      { id, first: count, after: from >= 0 ? String(from) : undefined },
      call,
    );
    if (!job) throw new NotFoundError('NOT_FOUND', `job ${id} not found`);
    return job.history.edges.map((edge) => edge.node);
  }

  /**
   * Every point of the job's series (all series when `names` is absent), read
   * a page of 1,000 points at a time: the server answers no single read of a
   * long series whole.
   */
  async jobMetrics(id: string, names?: string[], call?: CallOptions): Promise<MetricSeries[]> {
    const { job } = await this.request<{ job: { metrics: MetricSeries[] } | null }>(
      documents.jobMetrics,
      { id, names },
      call,
    );
    if (!job) throw new NotFoundError('NOT_FOUND', `job ${id} not found`);
    for (const series of job.metrics) {
      series.points = [];
      for (let after: string | null = null; ;) {
        const page: { job: { metrics: { pointsPage: MetricPointPage }[] } | null } = await this.request(
          documents.jobMetricPointsPage,
          { id, name: series.name, first: 1000, after },
          call,
        );
        const points = page.job?.metrics[0]?.pointsPage;
        if (!points) break;
        series.points.push(...points.edges.map((edge) => edge.node));
        if (!points.pageInfo.hasNextPage) break;
        after = points.pageInfo.endCursor;
      }
    }
    return job.metrics;
  }

  async jobs(
    args: { filter?: JobFilter; first?: number; after?: string; orderBy?: JobOrder } = {},
    call?: CallOptions,
  ): Promise<Connection<JobSummary>> {
    return (await this.request<{ jobs: Connection<JobSummary> }>(documents.jobs, args, call)).jobs;
  }

  /** One page of a job's log, and the job's status (to know whether more can come). */
  async jobLogs(
    id: string,
    args: { first?: number; after?: string } = {},
    call?: CallOptions,
  ): Promise<{ status: JobStatus; logs: Connection<LogLine> }> {
    const { job } = await this.request<{ job: { status: JobStatus; logs: Connection<LogLine> } | null }>(
      documents.jobLogsPage,
      { id, ...args },
      call,
    );
    if (!job) throw new NotFoundError('NOT_FOUND', `job ${id} not found`);
    return job;
  }

  async createExperiment(input: JsonObject, call?: CallOptions): Promise<ExperimentSummary> {
    return (await this.request<{ createExperiment: ExperimentSummary }>(documents.createExperiment, { input }, call))
      .createExperiment;
  }

  /** By id or by name; with the `top` best finished jobs as its leaderboard. */
  async experiment(
    which: { id?: string; name?: string },
    top = 10,
    call?: CallOptions,
  ): Promise<ExperimentDetail | null> {
    return (await this.request<{ experiment: ExperimentDetail | null }>(documents.experiment, { ...which, top }, call))
      .experiment;
  }

  async experiments(
    args: { status?: ExperimentStatus; first?: number; after?: string } = {},
    call?: CallOptions,
  ): Promise<Connection<ExperimentSummary>> {
    return (await this.request<{ experiments: Connection<ExperimentSummary> }>(documents.experiments, args, call))
      .experiments;
  }

  /** No new jobs are handed out until it is resumed; running jobs go on. */
  async pauseExperiment(experimentId: string, call?: CallOptions): Promise<ExperimentSummary> {
    return this.changeExperimentStatus('pauseExperiment', experimentId, call);
  }

  async resumeExperiment(experimentId: string, call?: CallOptions): Promise<ExperimentSummary> {
    return this.changeExperimentStatus('resumeExperiment', experimentId, call);
  }

  /** Ends it for good: its queued and running jobs are cancelled (workers learn it at their next heartbeat). */
  async finishExperiment(experimentId: string, call?: CallOptions): Promise<ExperimentSummary> {
    return this.changeExperimentStatus('finishExperiment', experimentId, call);
  }

  // ------------------------------------------------------------ subscriptions

  /**
   * The job's log from `afterOffset` (exclusive), then live, a batch at a time (a page of what was there, then
   * each append's lines: one message each, not one per line); resumes after the last line seen when the
   * connection drops.
   */
  followLogBatches(
    jobId: string,
    afterOffset: number | undefined,
    options?: SubscriptionOptions,
  ): AsyncGenerator<LogLine[]> {
    let last = afterOffset;
    const batches = resumingSubscription<{ jobLogBatches: { lines: LogLine[] } }>(
      this.socket(),
      () => ({ query: documents.jobLogBatchesSubscription, variables: { jobId, afterOffset: last } }),
      options,
    );
    return (async function* () {
      for await (const { jobLogBatches } of batches) {
        last = jobLogBatches.lines.at(-1)!.offset;
        yield jobLogBatches.lines;
      }
    })();
  }

  /** The job's log from `afterOffset` (exclusive), then live, line by line (received a batch at a time). */
  followLogs(jobId: string, afterOffset: number | undefined, options?: SubscriptionOptions): AsyncGenerator<LogLine> {
    const batches = this.followLogBatches(jobId, afterOffset, options);
    return (async function* () {
      for await (const batch of batches) yield* batch;
    })();
  }

  /** Status transitions, optionally of one experiment's jobs and to some statuses. Changes while disconnected are not replayed. */
  statusChanges(
    filter: { experimentId?: string; status?: JobStatus[] },
    options?: SubscriptionOptions,
  ): AsyncGenerator<JobStatusChange> {
    const changes = resumingSubscription<{ jobStatusChanged: JobStatusChange }>(
      this.socket(),
      () => ({ query: documents.jobStatusChangedSubscription, variables: filter }),
      options,
    );
    return (async function* () {
      for await (const { jobStatusChanged } of changes) yield jobStatusChanged;
    })();
  }

  /** The experiment after every change to it (counts, best job). */
  experimentUpdates(id: string, options?: SubscriptionOptions): AsyncGenerator<ExperimentSummary> {
    const updates = resumingSubscription<{ experimentUpdated: ExperimentSummary }>(
      this.socket(),
      () => ({ query: documents.experimentUpdatedSubscription, variables: { id } }),
      options,
    );
    return (async function* () {
      for await (const { experimentUpdated } of updates) yield experimentUpdated;
    })();
  }

  /** Closes the WebSocket, if one is open. */
  async close(): Promise<void> {
    await this.ws?.dispose();
    this.ws = undefined;
  }

  private socket(): Client {
    return (this.ws ??= webSocketClient(this.options.url, this.options.key));
  }

  private async changeExperimentStatus(
    mutation: 'pauseExperiment' | 'resumeExperiment' | 'finishExperiment',
    experimentId: string,
    call?: CallOptions,
  ): Promise<ExperimentSummary> {
    const data = await this.request<Record<typeof mutation, ExperimentSummary>>(
      documents[mutation],
      { input: { experimentId } },
      call,
    );
    return data[mutation];
  }

  private request<T>(query: string, variables: Record<string, unknown>, call?: CallOptions): Promise<T> {
    return graphqlRequest<T>(this.options, { query, variables }, call);
  }
}
