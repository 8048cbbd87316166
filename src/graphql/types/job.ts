/**
 * Jobs: the `Job` type and its parts, the job queries (`job`, `jobs`, `jobAt`),
 * the job mutations and the job subscriptions. Resolvers only translate:
 * commands live in `src/app/job-commands.ts`, reads in `projections/`.
 */
import { boundedFilterList } from '../../app/filter-lists.js';
import { badInput, notFound } from '../../domain/errors.js';
import { jobKind } from '../../domain/job/kind.js';
import type { JobView, LogLineRow } from '../../../projections/jobs-queries.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { connectionTypes, pageSize, toConnection } from '../pagination.js';
import { EventConnection, selectedEventFields } from './event.js';
import { Experiment } from './experiment.js';
import { MetricSeries } from './metrics.js';
import { Node } from './node.js';
import { PruningDecision } from './pruning.js';
import { JobOrder, jobOrder, parseJobCursor, withCursorText } from './job-order.js';

/**
 * A live job from the read model, or a past one rebuilt from its stream
 * (`asOfRevision` set: its metrics and log are the read model's as they stood at that revision).
 */
export type JobShape = JobView;

export const JobStatus = builder.enumType('JobStatus', {
  values: ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED'] as const,
});
export const LogStream = builder.enumType('LogStream', { values: ['STDOUT', 'STDERR'] as const });

export const LogLine = builder.objectRef<LogLineRow>('LogLine').implement({
  fields: (t) => ({
    offset: t.exposeInt('offset'),
    stream: t.field({ type: LogStream, resolve: (l) => l.stream }),
    text: t.exposeString('text'),
    timestamp: t.field({ type: 'DateTime', resolve: (l) => l.timestamp }),
  }),
});

const LogLineConnection = connectionTypes<LogLineRow>('LogLine', LogLine);

const LogLineBatch = builder.objectRef<{ lines: readonly LogLineRow[] }>('LogLineBatch').implement({
  description: "Consecutive lines of a job's log, in offset order: a page of what was there, or one append's lines.",
  fields: (t) => ({
    lines: t.field({ type: [LogLine], resolve: (batch) => batch.lines }),
    lastOffset: t.int({
      description: 'The offset of the last line: resubscribe with `afterOffset` set to it.',
      resolve: (batch) => batch.lines[batch.lines.length - 1]!.offset,
    }),
  }),
});

const Artifact = builder
  .objectRef<{ name: string; uri: string; sha256: string | null; metadata: Record<string, unknown> | null }>('Artifact')
  .implement({
    fields: (t) => ({
      name: t.exposeString('name'),
      uri: t.exposeString('uri'),
      sha256: t.exposeString('sha256', { nullable: true }),
      metadata: t.field({ type: 'JSONObject', nullable: true, resolve: (a) => a.metadata }),
    }),
  });

export const Job = builder.objectRef<JobShape>('Job');
Job.implement({
  interfaces: [Node],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'labels' in value && 'attempts' in value,
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.field({ type: JobStatus, resolve: (j) => j.status }),
    experiment: t.field({
      type: Experiment,
      nullable: true,
      resolve: (j, _args, { trialog }) =>
        j.experimentId ? (trialog.experimentQueries.experiment(j.experimentId) ?? null) : null,
    }),
    hyperparameters: t.field({
      type: 'JSONObject',
      description: 'Hyperparameter values of this job (sampled, copied or given).',
      resolve: (j) => j.hyperparameters,
    }),
    params: t.field({
      type: 'JSONObject',
      description: 'Free-form command parameters for the worker (e.g. dataset, epochs).',
      resolve: (j) => j.params,
    }),
    algorithmId: t.exposeString('algorithmId', { nullable: true }),
    algorithmVersion: t.exposeInt('algorithmVersion', { nullable: true }),
    trainingData: t.field({ type: 'JSON', nullable: true, resolve: (j) => j.trainingData }),
    priority: t.exposeInt('priority', { description: 'Higher runs first; ties run oldest first.' }),
    labels: t.exposeStringList('labels', { description: 'Capabilities a worker must offer to claim this job.' }),
    attempts: t.exposeInt('attempts', { description: 'How many times the job has been claimed.' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    workerId: t.exposeString('workerId', { nullable: true }),
    leaseExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (j) => (j.status === 'RUNNING' ? j.leaseExpiresAt : null),
    }),
    progress: t.exposeFloat('progress', { nullable: true, description: '0..1, as last reported by heartbeat.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (j) => j.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.finishedAt }),
    error: t.exposeString('error', { nullable: true }),
    result: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'Final results dictionary, as given to completeJob.',
      resolve: (j) => j.result,
    }),
    objectiveValue: t.float({
      nullable: true,
      description: "The experiment objective's value for this job, when known.",
      resolve: (j) => j.objectiveValue,
    }),
    pruning: t.field({
      type: PruningDecision,
      nullable: true,
      description:
        'Why its early-stopping rule pruned the job (null unless PRUNED): the rule, the step, its value and the threshold ' +
        'with the number of trials it came from. A past job (`jobAt`) has what it had at that revision.',
      resolve: (j) => j.pruning ?? null,
    }),
    generation: t.exposeInt('generation', { description: 'PBT lineage: 0 for a first generation job.' }),
    trialIndex: t.int({
      nullable: true,
      description: "Its slot in its experiment's search (0, 1, …), which keys its random draws; null outside a search.",
      resolve: (j) => j.trialIndex,
    }),
    decision: t.field({
      type: 'JSONObject',
      nullable: true,
      description:
        "Why its search created it, as recorded in its JobCreated: TPE's mode, version and split, PBT's exploit and " +
        'explore, the Hyperband bracket. Null for a job created by hand or by RANDOM or GRID, which need no record. ' +
        'Read from its first event, so it costs one read of the store per job.',
      resolve: async (j, _args, { trialog }) => {
        if (j.trialIndex === null) return null;
        const page = await trialog.history.streamPage(jobKind.streamId(j.id), 1, undefined, {
          fields: { data: true, metadata: false },
        });
        const data = page.items[0]?.node.data as { decision?: Record<string, unknown> | null } | undefined;
        return data?.decision ?? null;
      },
    }),
    parent: t.field({
      type: Job,
      nullable: true,
      resolve: (j, _args, { trialog }) => (j.parentId ? (trialog.jobQueries.job(j.parentId) ?? null) : null),
    }),
    metrics: t.field({
      type: [MetricSeries],
      description:
        'Its metric series by name (only those named in `names`, when given); a past job has those of its revision.',
      args: { names: t.arg.stringList() },
      resolve: (j, { names }, { trialog }) =>
        trialog.jobQueries.metrics.series(j.id, names ?? null, j.asOfRevision ?? null),
    }),
    logs: t.field({
      type: LogLineConnection,
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: (j, args, { trialog, limits }) => {
        const first = pageSize(limits, args.first, 100);
        const afterOffset = parseOffsetCursor(args.after);
        // A past job's log ends where it stood then; its lines are the read model's (they never change).
        const endOffset = j.asOfRevision === undefined ? undefined : j.nextLogOffset;
        const lines = trialog.jobQueries.logLines(j.id, afterOffset, first + 1, endOffset);
        const items = lines.slice(0, first).map((line) => ({ cursor: String(line.offset), node: line }));
        return toConnection(items, lines.length > first, args.after);
      },
    }),
    logLength: t.exposeInt('nextLogOffset', {
      description:
        'Lines in its log (a past job: as it stood then). Offsets run 0..logLength-1, so a reader can page a tail backward with logs(after).',
    }),
    artifacts: t.field({ type: [Artifact], resolve: (j) => j.artifacts }),
    history: t.field({
      type: EventConnection,
      description: "The job's own events, oldest first.",
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: async (j, args, { trialog, limits }, info) => {
        const first = pageSize(limits, args.first, 100);
        const page = await trialog.history.streamPage(jobKind.streamId(j.id), first, args.after ?? undefined, {
          upTo: j.asOfRevision,
          fields: selectedEventFields(info, ['edges', 'node']),
        });
        return toConnection(page.items, page.hasNextPage, args.after);
      },
    }),
    revision: t.exposeInt('revision', { description: "Revision of the job's stream after its last event." }),
  }),
});

function parseOffsetCursor(after: string | null | undefined): number {
  if (after === null || after === undefined) return -1;
  if (!/^\d{1,15}$/.test(after)) throw badInput('after is not a cursor of this log');
  return Number(after);
}

export const JobConnection = connectionTypes<JobShape, { totalCount: number }>('Job', Job);
builder.objectField(JobConnection, 'totalCount', (t) => t.exposeInt('totalCount'));

const JobClaim = builder
  .objectRef<{ job: JobShape; leaseToken: string; leaseExpiresAt: string }>('JobClaim')
  .implement({
    description: 'What a worker holds while it runs a job. The token fences every later call.',
    fields: (t) => ({
      job: t.field({ type: Job, resolve: (c) => c.job }),
      leaseToken: t.exposeString('leaseToken'),
      leaseExpiresAt: t.field({ type: 'DateTime', resolve: (c) => c.leaseExpiresAt }),
    }),
  });

const Lease = builder
  .objectRef<{ leaseToken: string; leaseExpiresAt: string; cancelRequested: boolean }>('Lease')
  .implement({
    fields: (t) => ({
      leaseToken: t.exposeString('leaseToken'),
      leaseExpiresAt: t.field({ type: 'DateTime', resolve: (l) => l.leaseExpiresAt }),
      cancelRequested: t.exposeBoolean('cancelRequested', {
        description: 'True once someone asked to cancel the job: the worker should stop.',
      }),
    }),
  });

const ReportMetricPayload = builder.objectRef<{ job: JobShape; shouldStop: boolean }>('ReportMetricPayload').implement({
  fields: (t) => ({
    job: t.field({ type: Job, resolve: (p) => p.job }),
    shouldStop: t.exposeBoolean('shouldStop', {
      description: "True when the experiment's early-stopping rule pruned this job: stop now.",
    }),
  }),
});

const AppendLogPayload = builder.objectRef<{ firstOffset: number; nextOffset: number }>('AppendLogPayload').implement({
  fields: (t) => ({ firstOffset: t.exposeInt('firstOffset'), nextOffset: t.exposeInt('nextOffset') }),
});

export const JobStatusChange = builder
  .objectRef<{ job: JobShape; from: JobShape['status'] | null; to: JobShape['status']; at: string; position: string }>(
    'JobStatusChange',
  )
  .implement({
    fields: (t) => ({
      job: t.field({ type: Job, resolve: (c) => c.job }),
      from: t.field({ type: JobStatus, nullable: true, resolve: (c) => c.from }),
      to: t.field({ type: JobStatus, resolve: (c) => c.to }),
      at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
      position: t.exposeString('position'),
    }),
  });

// ------------------------------------------------------------------ inputs

const JobFilter = builder.inputType('JobFilter', {
  fields: (t) => ({
    status: t.field({ type: [JobStatus] }),
    experimentId: t.id(),
    workerId: t.string(),
    algorithmId: t.string(),
    label: t.string(),
  }),
});

const ArtifactInput = builder.inputType('ArtifactInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    uri: t.string({ required: true }),
    sha256: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const CreateJobInput = builder.inputType('CreateJobInput', {
  fields: (t) => ({
    experimentId: t.id(),
    hyperparameters: t.field({ type: 'JSONObject' }),
    params: t.field({ type: 'JSONObject' }),
    algorithmId: t.string(),
    algorithmVersion: t.int(),
    trainingData: t.field({ type: 'JSON' }),
    priority: t.int({ defaultValue: 0 }),
    labels: t.stringList(),
    maxAttempts: t.int({ defaultValue: 3 }),
    idempotencyKey: t.string({
      description: 'A retried request with the same key returns the first job instead of a new one.',
    }),
  }),
});

const ClaimJobInput = builder.inputType('ClaimJobInput', {
  fields: (t) => ({
    workerId: t.string({ required: true }),
    experimentId: t.id(),
    anyExperiment: t.boolean({
      defaultValue: false,
      description:
        'A worker pool: a trial of any running experiment whose labels this worker offers, the experiment with the fewest running trials for its priority first (not with experimentId).',
    }),
    withCommand: t.boolean({
      defaultValue: false,
      description: 'With anyExperiment: only experiments that carry the command their trials run.',
    }),
    algorithmIds: t.stringList(),
    labels: t.stringList({
      description: 'Capabilities this worker offers; a job is claimable when its labels are a subset.',
    }),
    leaseSeconds: t.int({ defaultValue: 300 }),
    leaseToken: t.string({
      description:
        'The lease token to use, chosen by the worker (random, 32 to 256 characters). A claim sent again with the same token (its answer was lost) answers with the job the first one took instead of taking another.',
    }),
  }),
});

const leaseFields = (t: PothosSchemaTypes.InputFieldBuilder<GraphQLSchemaTypes, 'InputObject'>) => ({
  jobId: t.id({ required: true }),
  leaseToken: t.string({ required: true }),
});
type GraphQLSchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

const sequenceField = (t: PothosSchemaTypes.InputFieldBuilder<GraphQLSchemaTypes, 'InputObject'>) =>
  t.int({
    description:
      "The worker's number for this call, increasing per job. A retry with the same number and content (after a timeout, say) " +
      'writes nothing and answers as the first call did; a lower number, or the same number with other content, is CONFLICT.',
  });

const HeartbeatInput = builder.inputType('HeartbeatInput', {
  fields: (t) => ({ ...leaseFields(t), progress: t.float(), leaseSeconds: t.int() }),
});

const MetricPointInput = builder.inputType('MetricPointInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    value: t.float({ required: true }),
    step: t.int({ description: "Defaults to one past the series' last step." }),
    timestamp: t.field({ type: 'DateTime' }),
  }),
});

const ReportMetricInput = builder.inputType('ReportMetricInput', {
  fields: (t) => ({
    ...leaseFields(t),
    name: t.string({ required: true }),
    value: t.float({ required: true }),
    step: t.int(),
    timestamp: t.field({ type: 'DateTime' }),
    sequence: sequenceField(t),
  }),
});

const ReportMetricsInput = builder.inputType('ReportMetricsInput', {
  fields: (t) => ({
    ...leaseFields(t),
    points: t.field({ type: [MetricPointInput], required: true }),
    sequence: sequenceField(t),
  }),
});

const AppendLogInput = builder.inputType('AppendLogInput', {
  fields: (t) => ({
    ...leaseFields(t),
    lines: t.stringList({ required: true }),
    stream: t.field({ type: LogStream, defaultValue: 'STDOUT' }),
    sequence: sequenceField(t),
  }),
});

const CompleteJobInput = builder.inputType('CompleteJobInput', {
  fields: (t) => ({
    ...leaseFields(t),
    result: t.field({ type: 'JSONObject' }),
    artifacts: t.field({ type: [ArtifactInput] }),
  }),
});

const FailJobInput = builder.inputType('FailJobInput', {
  fields: (t) => ({
    ...leaseFields(t),
    error: t.string({ required: true }),
    retry: t.boolean({ defaultValue: false, description: 'Queue the job again when attempts remain.' }),
  }),
});

const ReleaseJobInput = builder.inputType('ReleaseJobInput', {
  fields: (t) => ({ ...leaseFields(t), reason: t.string() }),
});

const CancelJobInput = builder.inputType('CancelJobInput', {
  fields: (t) => ({ jobId: t.id({ required: true }), reason: t.string() }),
});

const RetryJobInput = builder.inputType('RetryJobInput', {
  fields: (t) => ({ jobId: t.id({ required: true }) }),
});

// ----------------------------------------------------------------- queries

/** The job as the read model has it now; mutations call this after their events are projected. */
export function readJob(ctx: GraphQLContext, jobId: string): JobShape {
  const job = ctx.trialog.jobQueries.job(jobId);
  if (!job) throw notFound(`job ${jobId} not found`);
  return job;
}

builder.queryFields((t) => ({
  job: t.field({
    type: Job,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { trialog }) => trialog.jobQueries.job(id) ?? null,
  }),
  jobs: t.field({
    type: JobConnection,
    args: {
      filter: t.arg({ type: JobFilter }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
      orderBy: t.arg({ type: JobOrder, description: 'The order of the list; oldest first when not given.' }),
    },
    resolve: (_root, args, { trialog, limits }) => {
      const first = pageSize(limits, args.first, 50);
      const filter = { ...args.filter, status: boundedFilterList(limits, 'filter.status', args.filter?.status) };
      const order = jobOrder(args.orderBy);
      const page = trialog.jobQueries.jobs(filter, first, parseJobCursor(trialog.history, args.after, order), order);
      return { ...toConnection(withCursorText(page), page.hasNextPage, args.after), totalCount: page.totalCount };
    },
  }),
  jobAt: t.field({
    type: Job,
    nullable: true,
    description: 'The job as it stood at a revision of its stream, or at a time.',
    args: { id: t.arg.id({ required: true }), revision: t.arg.int(), at: t.arg({ type: 'DateTime' }) },
    resolve: async (_root, args, { trialog }) => {
      const past = await trialog.history.jobAt(args.id, { revision: args.revision, time: args.at });
      return past?.view ?? null;
    },
  }),
}));

// --------------------------------------------------------------- mutations

builder.mutationFields((t) => ({
  createJob: t.field({
    type: Job,
    args: { input: t.arg({ type: CreateJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => readJob(ctx, await ctx.trialog.jobCommands.createJob(input, ctx.command)),
  }),
  claimJob: t.field({
    type: JobClaim,
    nullable: true,
    args: { input: t.arg({ type: ClaimJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const claim = await ctx.trialog.jobCommands.claimJob(input, ctx.command);
      return (
        claim && { job: readJob(ctx, claim.jobId), leaseToken: claim.leaseToken, leaseExpiresAt: claim.leaseExpiresAt }
      );
    },
  }),
  heartbeat: t.field({
    type: Lease,
    args: { input: t.arg({ type: HeartbeatInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.jobCommands.heartbeat(input, ctx.command),
  }),
  reportMetric: t.field({
    type: ReportMetricPayload,
    args: { input: t.arg({ type: ReportMetricInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { jobId, shouldStop } = await ctx.trialog.jobCommands.reportMetric(input, ctx.command);
      return { job: readJob(ctx, jobId), shouldStop };
    },
  }),
  reportMetrics: t.field({
    type: ReportMetricPayload,
    args: { input: t.arg({ type: ReportMetricsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { jobId, shouldStop } = await ctx.trialog.jobCommands.reportMetrics(input, ctx.command);
      return { job: readJob(ctx, jobId), shouldStop };
    },
  }),
  appendLog: t.field({
    type: AppendLogPayload,
    args: { input: t.arg({ type: AppendLogInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.jobCommands.appendLog(input, ctx.command),
  }),
  completeJob: t.field({
    type: Job,
    args: { input: t.arg({ type: CompleteJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      readJob(ctx, await ctx.trialog.jobCommands.completeJob(input, ctx.command)),
  }),
  failJob: t.field({
    type: Job,
    args: { input: t.arg({ type: FailJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => readJob(ctx, await ctx.trialog.jobCommands.failJob(input, ctx.command)),
  }),
  releaseJob: t.field({
    type: Job,
    description:
      'The worker hands the job back unfinished (it is shutting down): the job is queued again and the attempt does not count.',
    args: { input: t.arg({ type: ReleaseJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      readJob(ctx, await ctx.trialog.jobCommands.releaseJob(input, ctx.command)),
  }),
  cancelJob: t.field({
    type: Job,
    args: { input: t.arg({ type: CancelJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => readJob(ctx, await ctx.trialog.jobCommands.cancelJob(input, ctx.command)),
  }),
  retryJob: t.field({
    type: Job,
    args: { input: t.arg({ type: RetryJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => readJob(ctx, await ctx.trialog.jobCommands.retryJob(input, ctx.command)),
  }),
}));

// ----------------------------------------------------------- subscriptions

builder.subscriptionFields((t) => ({
  jobUpdated: t.field({
    type: Job,
    description:
      'Every change to one job: status, progress, metrics, result. With `afterRevision` (the last revision seen), the job as it is now comes first when it has moved past it: subscribe with -1 (or after a lost connection, with the last revision received) and no change is missed.',
    args: { id: t.arg.id({ required: true }), afterRevision: t.arg.int() },
    subscribe: (_root, { id, afterRevision }, { trialog }) => trialog.live.jobUpdates(id, afterRevision ?? null),
    resolve: (job) => job,
  }),
  jobStatusChanged: t.field({
    type: JobStatusChange,
    description:
      'Status transitions of any job, optionally narrowed; with `after` (a position), those after it first, then live: none missed or repeated.',
    args: { experimentId: t.arg.id(), status: t.arg({ type: [JobStatus] }), after: t.arg.string() },
    subscribe: (_root, args, { trialog }) =>
      trialog.live.jobStatusChanges(args.experimentId ?? null, args.status ?? null, args.after ?? null),
    resolve: (change) => change,
  }),
  jobLogs: t.field({
    type: LogLine,
    description: "The job's log from afterOffset (exclusive; from the start when absent), then live lines.",
    args: { jobId: t.arg.id({ required: true }), afterOffset: t.arg.int() },
    subscribe: (_root, args, { trialog }) => trialog.live.jobLogLines(args.jobId, args.afterOffset ?? -1),
    resolve: (line) => line,
  }),
  jobLogBatches: t.field({
    type: LogLineBatch,
    description:
      "`jobLogs` a batch at a time: the job's log from afterOffset (exclusive; from the start when absent) in pages, then the lines of each append together, in offset order, none missed or repeated. One message per batch rather than per line: what a log view or `trialog logs --follow` wants. Ended by the server (too slow, shutting down) it says the offset to resume after, as `jobLogs` does.",
    args: { jobId: t.arg.id({ required: true }), afterOffset: t.arg.int() },
    subscribe: (_root, args, { trialog }) => trialog.live.jobLogBatches(args.jobId, args.afterOffset ?? -1),
    resolve: (lines) => ({ lines }),
  }),
}));
