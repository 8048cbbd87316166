/** `trialog experiment create|show|pause|resume|finish` and `trialog experiments` (options and help: ../commands/people.ts). */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { text as readStream } from 'node:stream/consumers';
import { parse as parseYaml } from 'yaml';
import type {
  ExperimentDetail,
  ExperimentSummary,
  JobSummary,
  JsonObject,
  TrialogClient,
} from '../../client/client.js';
import type { ConnectionValues } from '../commands/connection-options.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatNumber, table, type Cell } from '../table.js';
import {
  compactJson,
  EXPERIMENT_STATUSES,
  fields,
  formatCounts,
  formatObjective,
  formatTime,
  parseChoice,
  parseInteger,
  printJson,
  resolveExperiment,
  say,
  subject,
  tableOptions,
  withClient,
} from './shared.js';

/** The server's largest page: experiments are few, so all of them are listed. */
const PAGE_SIZE = 1000;
/** Beyond this many hyperparameter names a column each makes the leaderboard too wide to read. */
const MAX_HYPERPARAMETER_COLUMNS = 6;

// ------------------------------------------------------------ create

export async function createCommand(values: ConnectionValues & { file: string }): Promise<number> {
  const input = await readExperimentInput(values.file);
  return withClient(values, async (client) => {
    const experiment = await client.createExperiment(input);
    if (values.json) printJson(experiment);
    else say(`created experiment ${experiment.id} (${experiment.name})`);
    return EXIT.OK;
  });
}

type Format = 'JSON' | 'YAML';
const PARSERS: Record<Format, (text: string) => unknown> = {
  JSON: (text) => JSON.parse(text) as unknown,
  YAML: (text) => parseYaml(text) as unknown,
};

async function readExperimentInput(file: string): Promise<JsonObject> {
  const source = file === '-' ? 'standard input' : file;
  const value = parseAs(await readSource(file), formatOf(file), source);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${source} must hold one object, the experiment's settings (a CreateExperimentInput)`);
  }
  return value as JsonObject;
}

async function readSource(file: string): Promise<string> {
  try {
    return file === '-' ? await readStream(process.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function formatOf(file: string): Format | undefined {
  const extension = extname(file).toLowerCase();
  if (extension === '.json') return 'JSON';
  if (extension === '.yaml' || extension === '.yml') return 'YAML';
  return undefined;
}

/** As `format`; without one as JSON, else as YAML (whose message then explains the failure). */
function parseAs(text: string, format: Format | undefined, source: string): unknown {
  let failure: unknown;
  for (const tried of format ? [format] : (['JSON', 'YAML'] as const)) {
    try {
      return PARSERS[tried](text);
    } catch (error) {
      failure = error;
    }
  }
  const message = (failure instanceof Error ? failure.message : String(failure)).trimEnd();
  throw new UsageError(`cannot parse ${source} as ${format ?? 'JSON or YAML'}: ${message}`);
}

// ------------------------------------------------------------ show

export async function showCommand(whichText: string, values: ConnectionValues & { top?: string }): Promise<number> {
  const which = subject(whichText, 'experiment id or name', 'trialog experiment show <id|name>');
  const top = values.top === undefined ? 10 : parseInteger('--top', values.top, { min: 0, max: PAGE_SIZE });
  return withClient(values, async (client) => {
    const experiment = await resolveExperiment(client, which, top);
    if (values.json) printJson(experiment);
    else say(describeExperiment(experiment));
    return EXIT.OK;
  });
}

function describeExperiment(experiment: ExperimentDetail): string {
  const { objective, stopThreshold, bestJob } = experiment;
  const summary = fields([
    ['experiment', `${experiment.name} (${experiment.id})`],
    ['description', experiment.description],
    ['status', experiment.status],
    ['scheduler', schedulerText(experiment)],
    [
      'objective',
      objective && `${formatObjective(objective)}${stopThreshold === null ? '' : `, stop at ${stopThreshold}`}`,
    ],
    ['jobs', `${experiment.jobCounts.total}: ${formatCounts(experiment.jobCounts)}`],
    [
      'best',
      bestJob && `${bestJob.objectiveValue === null ? '-' : formatNumber(bestJob.objectiveValue)} (job ${bestJob.id})`,
    ],
    ['created', formatTime(experiment.createdAt)],
  ]);
  if (!objective) return summary;
  const leaderboard =
    experiment.leaderboard.length === 0
      ? 'no succeeded job has an objective value yet'
      : leaderboardTable(experiment.leaderboard);
  return `${summary}\n\nleaderboard:\n${leaderboard}`;
}

function schedulerText(experiment: ExperimentSummary): string {
  const limits = [
    experiment.maxJobs === null ? null : `at most ${experiment.maxJobs} jobs`,
    experiment.maxConcurrent === null ? null : `${experiment.maxConcurrent} at a time`,
  ].filter((limit) => limit !== null);
  return [experiment.scheduler, ...limits].join(', ');
}

function leaderboardTable(jobs: JobSummary[]): string {
  const names = [...new Set(jobs.flatMap((job) => Object.keys(job.hyperparameters)))];
  const columnEach = names.length <= MAX_HYPERPARAMETER_COLUMNS;
  const headers = ['rank', 'job', 'status', 'objective', ...(columnEach ? names : ['hyperparameters'])];
  const rows = jobs.map((job, index) => [
    index + 1,
    job.id,
    job.status,
    job.objectiveValue,
    ...(columnEach
      ? names.map((name) => hyperparameterCell(job.hyperparameters[name]))
      : [compactJson(job.hyperparameters)]),
  ]);
  return table(headers, rows, tableOptions());
}

/** Numbers stay numbers (right-aligned, six digits); a job without the parameter shows `-`. */
function hyperparameterCell(value: unknown): Cell {
  if (value === undefined || typeof value === 'number' || typeof value === 'string') return value;
  return compactJson(value);
}

// ------------------------------------------------------------ pause, resume, finish

const STATUS_CHANGES = {
  pause: { call: 'pauseExperiment', done: 'paused' },
  resume: { call: 'resumeExperiment', done: 'resumed' },
  finish: { call: 'finishExperiment', done: 'finished' },
} as const;

export async function statusCommand(
  change: keyof typeof STATUS_CHANGES,
  whichText: string,
  values: ConnectionValues,
): Promise<number> {
  const which = subject(whichText, 'experiment id or name', `trialog experiment ${change} <id|name>`);
  return withClient(values, async (client) => {
    const { id } = await resolveExperiment(client, which);
    const experiment = await client[STATUS_CHANGES[change].call](id);
    if (values.json) printJson(experiment);
    else
      say(
        `${STATUS_CHANGES[change].done} experiment ${experiment.name} (${experiment.id}): ${formatCounts(experiment.jobCounts)}`,
      );
    return EXIT.OK;
  });
}

// ------------------------------------------------------------ experiments

export async function experimentsCommand(values: ConnectionValues & { status?: string }): Promise<number> {
  const status = values.status === undefined ? undefined : parseChoice('--status', values.status, EXPERIMENT_STATUSES);
  return withClient(values, async (client) => {
    const experiments = await fetchExperiments(client, status);
    if (values.json) printJson(experiments);
    else say(experiments.length === 0 ? 'no experiments' : experimentsTable(experiments));
    return EXIT.OK;
  });
}

async function fetchExperiments(
  client: TrialogClient,
  status: ExperimentSummary['status'] | undefined,
): Promise<ExperimentSummary[]> {
  const experiments: ExperimentSummary[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.experiments({ status, first: PAGE_SIZE, after });
    experiments.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return experiments;
    after = page.pageInfo.endCursor;
  }
}

function experimentsTable(experiments: ExperimentSummary[]): string {
  const headers = [
    'id',
    'name',
    'status',
    'scheduler',
    'objective',
    'queued',
    'running',
    'succeeded',
    'failed',
    'pruned',
    'cancelled',
    'best',
  ];
  const rows = experiments.map((e) => [
    e.id,
    e.name,
    e.status,
    e.scheduler,
    formatObjective(e.objective),
    e.jobCounts.queued,
    e.jobCounts.running,
    e.jobCounts.succeeded,
    e.jobCounts.failed,
    e.jobCounts.pruned,
    e.jobCounts.cancelled,
    e.bestJob?.objectiveValue,
  ]);
  return table(headers, rows, tableOptions());
}
