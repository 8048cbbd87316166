/**
 * What the people commands share: a client that gives up on an unreachable
 * server quickly, checks of their arguments, and the ways they print.
 */
import {
  NotFoundError,
  TrialogClient,
  type CallOptions,
  type ExperimentDetail,
  type ExperimentStatus,
  type ExperimentSummary,
  type JobCounts,
  type JobStatus,
} from '../../client/client.js';
import type { ConnectionValues } from '../commands/connection-options.js';
import { clientFrom } from '../connection.js';
import { UsageError } from '../exit-codes.js';
import { inert, inertJson } from '../inert-text.js';
import type { TableOptions } from '../table.js';

/** Someone waits at the prompt: 5 s of retries, not the client's 30 meant for workers riding out a restart. */
const RETRY_BUDGET_MS = 5_000;

/**
 * Runs `use` with a client, and closes it afterwards: an open graphql-ws socket would keep the process alive.
 * Also where a command's output mode is set, since every people command that prints job data comes here.
 */
export async function withClient<T>(values: ConnectionValues, use: (client: TrialogClient) => Promise<T>): Promise<T> {
  raw = values.raw === true;
  const { options } = clientFrom(values);
  const client = new TrialogClient({ ...options, retry: { ...options.retry, maxRetryTime: RETRY_BUDGET_MS } });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

// ------------------------------------------------------------ arguments

export const JOB_STATUSES = [
  'QUEUED',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'PRUNED',
] as const satisfies readonly JobStatus[];
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED']);
export const EXPERIMENT_STATUSES = ['RUNNING', 'PAUSED', 'DONE'] as const satisfies readonly ExperimentStatus[];

/** One of `choices`, written in any case. */
export function parseChoice<T extends string>(option: string, text: string, choices: readonly T[]): T {
  const choice = choices.find((c) => c === text.trim().toUpperCase());
  if (!choice) throw new UsageError(`${option} must be one of ${choices.join(', ').toLowerCase()}, not "${text}"`);
  return choice;
}

/** `running,queued`: a comma-separated list of job statuses. */
export function parseJobStatuses(text: string): JobStatus[] {
  return text.split(',').map((part) => parseChoice('--status', part, JOB_STATUSES));
}

export function parseInteger(option: string, text: string, range: { min: number; max: number }): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < range.min || value > range.max) {
    throw new UsageError(`${option} must be a whole number from ${range.min} to ${range.max}, not "${text}"`);
  }
  return value;
}

/** The argument a command names its subject with (a job id, an experiment), trimmed and of a sane length. */
export function subject(text: string, what: string, usage: string): string {
  const value = text.trim();
  if (value === '' || value.length > 256)
    throw new UsageError(`the ${what} must be 1 to 256 characters (usage: ${usage})`);
  return value;
}

/** An experiment named by its id or by its name (the id is tried first). */
export async function resolveExperiment(
  client: TrialogClient,
  idOrName: string,
  top = 0,
  call?: CallOptions,
): Promise<ExperimentDetail> {
  const experiment =
    (await client.experiment({ id: idOrName }, top, call)) ?? (await client.experiment({ name: idOrName }, top, call));
  if (!experiment) throw new NotFoundError('NOT_FOUND', `no experiment with id or name "${idOrName}"`);
  return experiment;
}

// ------------------------------------------------------------ output

/**
 * Everything printed holds text from jobs, which must not drive the reader's
 * terminal (see ../inert-text.ts): shown inert unless --raw was given. Piped
 * output is escaped too: it ends on a terminal often enough (`| less -R`, a
 * file read later with cat), and --json or --raw give the exact text.
 */
let raw = false;

/** Text as the person asked for it: inert by default, as it is with --raw. */
export function shown(text: string): string {
  return raw ? text : inert(text);
}

/** One line (or block) of output for people. */
export function say(text: string): void {
  console.log(shown(text));
}

/**
 * How tables are laid out here: cells shown as `shown` shows them; on a
 * terminal, fitted to its width (cut with an ellipsis). Piped or redirected,
 * nothing is cut: a script gets every character.
 */
export function tableOptions(): TableOptions {
  return { text: shown, maxWidth: process.stdout.isTTY ? process.stdout.columns || undefined : undefined };
}

/** One JSON document, indented for whoever reads it before a script does. */
export function printJson(value: unknown): void {
  console.log(jsonShown(JSON.stringify(value, null, 2)));
}

/** One line of NDJSON, for streams a script reads as they come. */
export function printJsonLine(value: unknown): void {
  console.log(jsonShown(JSON.stringify(value)));
}

/** JSON with what it leaves raw (C1, bidi controls) escaped the JSON way: the same values, parsed. */
function jsonShown(json: string): string {
  return raw ? json : inertJson(json);
}

/** JSON on one line, cut to `max` characters when given. */
export function compactJson(value: unknown, max?: number): string {
  const text = JSON.stringify(value);
  return max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Label-value lines with the values aligned; rows without a value are left out. */
export function fields(rows: [label: string, value: string | number | null | undefined][]): string {
  const shown = rows.filter(
    (row): row is [string, string | number] => row[1] !== null && row[1] !== undefined && row[1] !== '',
  );
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** Local time to the second: `2024-05-01 14:03:09`. */
export function formatTime(iso: string | null): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `2h 5m`, `3m 12s`, `4.2s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export function formatCounts(counts: JobCounts): string {
  return `${counts.queued} queued, ${counts.running} running, ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.pruned} pruned, ${counts.cancelled} cancelled`;
}

/** `min loss`, `max accuracy`. */
export function formatObjective(objective: ExperimentSummary['objective']): string | null {
  return objective && `${objective.direction === 'MINIMIZE' ? 'min' : 'max'} ${objective.metric}`;
}
