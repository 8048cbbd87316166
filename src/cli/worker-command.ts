/** `trialog worker`: options in (see ./commands/worker.ts), a running Worker out; exits when it stops. */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { NetworkError, NotFoundError, type TrialogClient } from '../client/client.js';
import { limitsFromEnv, type Limits } from '../limits.js';
import { Worker, defaultWorkerId, type WorkerSettings } from '../worker/worker.js';
import type { WorkerValues } from './commands/worker.js';
import { clientFrom } from './connection.js';
import { EXIT, UsageError } from './exit-codes.js';
import { inert } from './inert-text.js';

export async function runWorkerCommand(
  command: string[],
  values: WorkerValues,
  afterSeparator: boolean,
): Promise<number> {
  // Without a command, the worker serves every running experiment that carries its own (a pool).
  if (afterSeparator !== command.length > 0) {
    throw new UsageError('worker needs the command to run after --, e.g. trialog worker -- python train.py');
  }
  if (command.length === 0 && values.experiment) {
    throw new UsageError(
      'worker --experiment needs the command to run after --; without --experiment and without a command it serves every experiment that carries its own',
    );
  }
  const limits = limitsOf(process.env);
  const client = clientFrom(values);
  // Messages quote job data and the command's stderr: shown inert, like every CLI output.
  const log = (message: string) => console.error(`[trialog worker ${new Date().toISOString()}] ${inert(message)}`);
  const settings: WorkerSettings = {
    command,
    workerId: values.workerId ?? defaultWorkerId(),
    experimentId: undefined,
    labels: list(values.labels),
    algorithmIds: list(values.algorithms),
    slots: whole(values.slots, 'slots', 1, 1, 1024),
    leaseSeconds: whole(values.lease, 'lease', 300, 3, limits.leaseSecondsMax),
    graceMs: seconds(values.grace, 'grace', 10) * 1000,
    workDir: resolve(values.workDir ?? 'trialog-runs'),
    cwd: process.cwd(),
    hyperparameterArgs: values.hparamArgs
      ? { prefix: values.hparamPrefix ?? '--', delimiter: values.hparamDelimiter ?? '=' }
      : null,
    checkpointRoots: (values.checkpointRoot ?? []).map(checkpointRoot),
    pollMs: Math.max(0.1, seconds(values.poll, 'poll', 5)) * 1000,
    maxJobs:
      values.maxJobs === undefined ? undefined : whole(values.maxJobs, 'max-jobs', 1, 1, Number.MAX_SAFE_INTEGER),
    idleExitMs: values.idleExit === undefined ? undefined : seconds(values.idleExit, 'idle-exit', 0) * 1000,
    drain: values.drain === true,
    limits,
    log,
  };
  // Options are checked; now the server. A wrong URL or key should say so now, not after a night of
  // silent retries (the default 30 s budget), and an experiment is named by id or name.
  await client.ping();
  if (values.experiment) settings.experimentId = await experimentId(client, values.experiment);
  const worker = new Worker(client, settings);
  const onSignal = (signal: NodeJS.Signals) => {
    const running = worker.runningJobIds;
    log(
      `${signal}: ${settings.drain ? 'finishing' : 'releasing'} ${running.length} running job(s)` +
        `${running.length ? ` (${running.join(', ')})` : ''}; again to kill them now`,
    );
    worker.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  log(
    `${settings.workerId} serving ${client.options.url} with ${settings.slots} slot(s): ` +
      (command.length ? command.join(' ') : "every running experiment's own command"),
  );
  const summary = await worker.run();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  log(
    `stopped (${summary.stoppedBecause}): ${summary.succeeded} succeeded, ${summary.failed} failed, ` +
      `${summary.released} released, ${summary.endedByServer} stopped by the server` +
      `${summary.unreported ? `, ${summary.unreported} unreported` : ''}`,
  );
  if (summary.stoppedBecause === 'forced') return EXIT.INTERRUPTED;
  if (summary.fatal) throw summary.fatal;
  return EXIT.OK;
}

/**
 * The limits a server started in this environment would have (TRIALOG_LIMIT_*): what a job's result and
 * artifacts are checked against before they are sent, and the longest lease. Read when the command runs.
 */
function limitsOf(env: NodeJS.ProcessEnv): Limits {
  try {
    return limitsFromEnv(env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** An experiment named by id or by name; its id. */
async function experimentId(client: TrialogClient, idOrName: string): Promise<string> {
  try {
    const experiment =
      (await client.experiment({ id: idOrName }, 0)) ?? (await client.experiment({ name: idOrName }, 0));
    if (experiment) return experiment.id;
  } catch (error) {
    if (error instanceof NetworkError) throw error;
    // An id the server cannot parse may still be a name.
    const byName = await client.experiment({ name: idOrName }, 0);
    if (byName) return byName.id;
  }
  throw new NotFoundError('NOT_FOUND', `no experiment with id or name ${JSON.stringify(idOrName)}`);
}

/** A --checkpoint-root: an existing directory, by its real path (so a link cannot move it later). */
function checkpointRoot(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (error) {
    throw new UsageError(`--checkpoint-root ${JSON.stringify(dir)}: ${(error as Error).message}`);
  }
  if (!statSync(real).isDirectory())
    throw new UsageError(`--checkpoint-root ${JSON.stringify(dir)} is not a directory`);
  return real;
}

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function whole(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  }
  return value;
}

function seconds(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 86_400) {
    throw new UsageError(`--${name} must be a number of seconds from 0 to 86400 (got ${JSON.stringify(text)})`);
  }
  return value;
}
