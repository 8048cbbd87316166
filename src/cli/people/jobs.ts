/** `trialog jobs`, `trialog job <id>`, `trialog cancel <id>`. */
import { parseArgs } from 'node:util';
import { NotFoundError, type JobDetail, type JobFilter, type JobSummary, type TrialogClient } from '../../client/client.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatNumber, table } from '../table.js';
import {
  compactJson,
  EXIT_CODES_HELP,
  fields,
  formatDuration,
  formatTime,
  onlyPositional,
  parseInteger,
  parseJobStatuses,
  PEOPLE_OPTIONS_HELP,
  peopleOptions,
  printJson,
  resolveExperiment,
  say,
  withClient,
} from './shared.js';

/** The server's largest page, for --all. */
const PAGE_SIZE = 1000;
const DEFAULT_FIRST = 50;
const HYPERPARAMETERS_WIDTH = 60;

export const JOBS_HELP = `usage: trialog jobs [--status S[,S...]] [--experiment ID|NAME] [--label L] [--worker W] [--first N | --all]

Lists jobs, oldest first: id, status, experiment, attempts (made/allowed), objective
value, hyperparameters (cut to ${HYPERPARAMETERS_WIDTH} characters; --json has them whole), created (local time).

  --status S[,S...]   only jobs in these statuses, in any case:
                      queued, running, succeeded, failed, cancelled, pruned
  --experiment E      only the jobs of this experiment, named by its id or its name
  --label L           only jobs carrying this label
  --worker W          only jobs of this worker id
  --first N           the first N jobs (default 50, at most 1000); the last line says
                      how many there are in all when there are more
  --all               every job that matches, fetched page by page
  --json              {"totalCount": N, "jobs": [...]}

${PEOPLE_OPTIONS_HELP}

examples:
  trialog jobs --status running,queued
  trialog jobs --experiment resnet-sweep --all --json | jq '.jobs[].id'

${EXIT_CODES_HELP}`;

export const JOB_HELP = `usage: trialog job <job id>

Shows one job: status, experiment, attempts, worker, lease, progress, timings (local
time), error, hyperparameters, params, result, artifacts and the last value of each metric.

  --json   the whole job as the server answers it

${PEOPLE_OPTIONS_HELP}

${EXIT_CODES_HELP}`;

export const CANCEL_HELP = `usage: trialog cancel <job id> [--reason TEXT]

Cancels a queued or running job. A running job's worker learns it at its next
heartbeat and stops. A job that has already ended cannot be cancelled (exit 1).

  --reason TEXT   why, kept in the job's history
  --json          the cancelled job

${PEOPLE_OPTIONS_HELP}

${EXIT_CODES_HELP}`;

export async function jobsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...peopleOptions,
      status: { type: 'string' },
      experiment: { type: 'string' },
      label: { type: 'string' },
      worker: { type: 'string' },
      first: { type: 'string' },
      all: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(JOBS_HELP);
    return EXIT.OK;
  }
  if (values.all && values.first !== undefined) throw new UsageError('give --first or --all, not both');
  const status = values.status === undefined ? undefined : parseJobStatuses(values.status);
  const limit = values.all ? 'all' : values.first === undefined ? DEFAULT_FIRST : parseInteger('--first', values.first, { min: 1, max: PAGE_SIZE });
  return withClient(values, async (client) => {
    const experimentId = values.experiment === undefined ? undefined : (await resolveExperiment(client, values.experiment)).id;
    const filter: JobFilter = { status, experimentId, label: values.label, workerId: values.worker };
    const { jobs, totalCount } = await fetchJobs(client, filter, limit);
    if (values.json) printJson({ totalCount, jobs });
    else printJobsTable(jobs, totalCount);
    return EXIT.OK;
  });
}

async function fetchJobs(
  client: TrialogClient,
  filter: JobFilter,
  limit: number | 'all',
): Promise<{ jobs: JobSummary[]; totalCount: number }> {
  const jobs: JobSummary[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.jobs({ filter, first: limit === 'all' ? PAGE_SIZE : limit, after });
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
    compactJson(job.hyperparameters, HYPERPARAMETERS_WIDTH),
    formatTime(job.createdAt),
  ]);
  say(table(['id', 'status', 'experiment', 'attempts', 'objective', 'hyperparameters', 'created'], rows));
  if (jobs.length < totalCount) say(`${jobs.length} of ${totalCount} jobs`);
}

export async function jobCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: peopleOptions, allowPositionals: true });
  if (values.help) {
    console.log(JOB_HELP);
    return EXIT.OK;
  }
  const jobId = onlyPositional(positionals, 'job id', 'trialog job <job id>');
  return withClient(values, async (client) => {
    const job = await client.job(jobId);
    if (!job) throw new NotFoundError('NOT_FOUND', `no job ${jobId}`);
    if (values.json) printJson(job);
    else say(describeJob(job));
    return EXIT.OK;
  });
}

function describeJob(job: JobDetail): string {
  const sections = [jobFields(job)];
  if (job.artifacts.length > 0) {
    const rows = job.artifacts.map((a) => [a.name, a.uri, a.sha256?.slice(0, 12)]);
    sections.push(`artifacts:\n${table(['name', 'uri', 'sha256'], rows)}`);
  }
  if (job.metrics.length > 0) {
    const rows = job.metrics.map((m) => [m.name, m.last?.step, m.last?.value]);
    sections.push(`metrics:\n${table(['name', 'last step', 'last value'], rows)}`);
  }
  return sections.join('\n\n');
}

function jobFields(job: JobDetail): string {
  const isEmpty = (value: object | null) => value === null || Object.keys(value).length === 0;
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
    ['error', job.error],
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

export async function cancelCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...peopleOptions, reason: { type: 'string' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(CANCEL_HELP);
    return EXIT.OK;
  }
  const jobId = onlyPositional(positionals, 'job id', 'trialog cancel <job id>');
  return withClient(values, async (client) => {
    const job = await client.cancelJob({ jobId, reason: values.reason });
    if (values.json) printJson(job);
    else say(`cancelled job ${job.id}`);
    return EXIT.OK;
  });
}
