/** `trialog jobs`, `trialog job <id>`, `trialog cancel <id>` (their options and help: ../commands/people.ts). */
import {
  NotFoundError,
  type JobDetail,
  type JobFilter,
  type JobOrder,
  type JobSummary,
  type PruningDecision,
  type TrialogClient,
} from '../../client/client.js';
import type { ConnectionValues } from '../commands/connection-options.js';
import { DEFAULT_FIRST, JOB_SORT_FIELDS, PAGE_SIZE } from '../commands/job-listing-options.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatNumber, table } from '../table.js';
import {
  compactJson,
  fields,
  formatDuration,
  formatTime,
  parseInteger,
  parseJobStatuses,
  printJson,
  resolveExperiment,
  say,
  subject,
  tableOptions,
  withClient,
} from './shared.js';

/** How many of a cancelled job's last events are searched for its cancellation (a late log line may follow it). */
const CANCEL_SEARCH_EVENTS = 20;

interface JobsValues extends ConnectionValues {
  status?: string;
  experiment?: string;
  label?: string;
  worker?: string;
  sort: string;
  first?: string;
  all?: boolean;
}

export async function jobsCommand(values: JobsValues): Promise<number> {
  if (values.all && values.first !== undefined) throw new UsageError('give --first or --all, not both');
  const status = values.status === undefined ? undefined : parseJobStatuses(values.status);
  const orderBy = parseSort(values.sort);
  const limit = values.all
    ? 'all'
    : values.first === undefined
      ? DEFAULT_FIRST
      : parseInteger('--first', values.first, { min: 1, max: PAGE_SIZE });
  return withClient(values, async (client) => {
    const experimentId =
      values.experiment === undefined ? undefined : (await resolveExperiment(client, values.experiment)).id;
    const filter: JobFilter = { status, experimentId, label: values.label, workerId: values.worker };
    const { jobs, totalCount } = await fetchJobs(client, filter, orderBy, limit);
    if (values.json) printJson({ totalCount, jobs });
    else printJobsTable(jobs, totalCount);
    return EXIT.OK;
  });
}

/** `created`, `priority:asc`, `objective:desc`… as the server's order. */
export function parseSort(text: string): JobOrder {
  const [field, direction = 'desc', ...rest] = text.trim().toLowerCase().split(':');
  if (
    !(JOB_SORT_FIELDS as readonly string[]).includes(field!) ||
    !['asc', 'desc'].includes(direction) ||
    rest.length > 0
  ) {
    throw new UsageError(
      `--sort must be FIELD or FIELD:asc or FIELD:desc, FIELD one of ${JOB_SORT_FIELDS.join(', ')}; not "${text}"`,
    );
  }
  return {
    field: field!.toUpperCase() as JobOrder['field'],
    direction: direction.toUpperCase() as JobOrder['direction'],
  };
}

async function fetchJobs(
  client: TrialogClient,
  filter: JobFilter,
  orderBy: JobOrder,
  limit: number | 'all',
): Promise<{ jobs: JobSummary[]; totalCount: number }> {
  const jobs: JobSummary[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.jobs({ filter, orderBy, first: limit === 'all' ? PAGE_SIZE : limit, after });
    jobs.push(...page.edges.map((edge) => edge.node));
    if (limit !== 'all' || !page.pageInfo.hasNextPage || !page.pageInfo.endCursor) {
      return { jobs, totalCount: page.totalCount ?? jobs.length };
    }
    after = page.pageInfo.endCursor;
  }
}

function printJobsTable(jobs: JobSummary[], totalCount: number): void {
  if (jobs.length === 0) {
    say('no jobs');
    return;
  }
  const rows = jobs.map((job) => [
    job.id,
    job.status,
    job.experiment?.name,
    `${job.attempts}/${job.maxAttempts}`,
    job.objectiveValue,
    compactJson(job.hyperparameters),
    formatTime(job.createdAt),
  ]);
  say(
    table(['id', 'status', 'experiment', 'attempts', 'objective', 'hyperparameters', 'created'], rows, tableOptions()),
  );
  if (jobs.length < totalCount) say(`${jobs.length} of ${totalCount} jobs`);
}

export async function jobCommand(jobIdText: string, values: ConnectionValues): Promise<number> {
  const jobId = subject(jobIdText, 'job id', 'trialog job <job id>');
  return withClient(values, async (client) => {
    const job = await client.job(jobId);
    if (!job) throw new NotFoundError('NOT_FOUND', `no job ${jobId}`);
    if (values.json) printJson(job);
    else say(describeJob(job, job.status === 'CANCELLED' ? await cancellationOf(client, job) : undefined));
    return EXIT.OK;
  });
}

/** Why and by whom a cancelled job was cancelled: its JobCancelled event, among its last events. */
async function cancellationOf(client: TrialogClient, job: JobDetail): Promise<Cancellation | undefined> {
  const events = await client.jobHistoryTail(job.id, job.revision, CANCEL_SEARCH_EVENTS);
  const cancelled = events.findLast((event) => event.type === 'JobCancelled');
  if (!cancelled) return undefined;
  const data = cancelled.data as { reason?: string | null; from?: string };
  const actor = cancelled.metadata.actor;
  return {
    reason: data.reason ?? null,
    from: data.from ?? null,
    by: typeof actor === 'string' ? actor : null,
    at: cancelled.timestamp,
  };
}

interface Cancellation {
  reason: string | null;
  /** The status it was cancelled from: QUEUED or RUNNING. */
  from: string | null;
  by: string | null;
  at: string;
}

function describeJob(job: JobDetail, cancellation: Cancellation | undefined): string {
  const sections = [jobFields(job, cancellation)];
  if (job.artifacts.length > 0) {
    const rows = job.artifacts.map((a) => [a.name, a.uri, a.sha256?.slice(0, 12)]);
    sections.push(`artifacts:\n${table(['name', 'uri', 'sha256'], rows, tableOptions())}`);
  }
  if (job.metrics.length > 0) {
    const rows = job.metrics.map((m) => [m.name, m.last?.step, m.last?.value]);
    sections.push(`metrics:\n${table(['name', 'last step', 'last value'], rows, tableOptions())}`);
  }
  return sections.join('\n\n');
}

function jobFields(job: JobDetail, cancellation: Cancellation | undefined): string {
  const isEmpty = (value: object | null) => value === null || Object.keys(value).length === 0;
  // A cancel's reason is kept as the job's error too: shown once, under its own label.
  const error = cancellation && job.error === cancellation.reason ? null : job.error;
  return fields([
    ['job', job.id],
    ['status', job.status],
    ['experiment', job.experiment && `${job.experiment.name} (${job.experiment.id})`],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['worker', job.workerId],
    // A lease outlives nothing but a running job; an ended job's last expiry would only confuse.
    ['lease until', job.status === 'RUNNING' ? formatTime(job.leaseExpiresAt) : null],
    ['progress', job.progress === null ? null : `${Math.round(job.progress * 100)}%`],
    ['priority', job.priority],
    ['labels', job.labels.join(', ')],
    ['generation', job.parent ? `${job.generation} (parent ${job.parent.id})` : null],
    ['created', formatTime(job.createdAt)],
    ['started', formatTime(job.startedAt)],
    ['finished', formatTime(job.finishedAt)],
    ['ran for', runTime(job)],
    ['objective', job.objectiveValue === null ? null : formatNumber(job.objectiveValue)],
    ['error', error],
    ...pruningFields(job.pruning),
    ...cancellationFields(cancellation),
    ['hyperparameters', compactJson(job.hyperparameters)],
    ['params', isEmpty(job.params) ? null : compactJson(job.params)],
    ['result', isEmpty(job.result) ? null : compactJson(job.result)],
  ]);
}

/** From start to end, or to now while it runs. */
function runTime(job: JobSummary): string | null {
  if (!job.startedAt) return null;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return formatDuration(end - Date.parse(job.startedAt));
}

/** Label-value rows saying why the job was pruned: its rule, and what was compared with what. */
function pruningFields(pruning: PruningDecision | null): [string, string | null][] {
  if (!pruning) return [];
  const against =
    pruning.threshold === null
      ? 'no threshold recorded'
      : `threshold ${formatNumber(pruning.threshold)}${pruning.comparedTrials === null ? '' : ` from ${pruning.comparedTrials} trials`}`;
  return [
    ['pruned by', `${pruning.rule}${pruning.rung === null ? '' : ` (rung ${pruning.rung})`}`],
    ['pruned at', `step ${pruning.step}: value ${formatNumber(pruning.value)}, ${against}`],
  ];
}

function cancellationFields(cancellation: Cancellation | undefined): [string, string | null][] {
  if (!cancellation) return [];
  const by = [cancellation.by && `by ${cancellation.by}`, cancellation.from && `while ${cancellation.from}`]
    .filter(Boolean)
    .join(', ');
  return [
    ['cancel reason', cancellation.reason ?? '(none given)'],
    ['cancelled', `${formatTime(cancellation.at)}${by ? ` ${by}` : ''}`],
  ];
}

export async function cancelCommand(
  jobIdText: string,
  values: ConnectionValues & { reason?: string },
): Promise<number> {
  const jobId = subject(jobIdText, 'job id', 'trialog cancel <job id>');
  return withClient(values, async (client) => {
    const job = await client.cancelJob({ jobId, reason: values.reason });
    if (values.json) printJson(job);
    else say(`cancelled job ${job.id}`);
    return EXIT.OK;
  });
}
