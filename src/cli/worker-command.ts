/** `trialog worker`: options in, a running Worker out; exits when it stops. */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NetworkError, NotFoundError, type TrialogClient } from '../client/client.js';
import { defaultLimits } from '../limits.js';
import { Worker, defaultWorkerId, type WorkerSettings } from '../worker/worker.js';
import { CONNECTION_HELP, clientFrom, connectionOptions } from './connection.js';
import { EXIT, UsageError } from './exit-codes.js';
import { inert } from './inert-text.js';

export const WORKER_HELP = `usage: trialog worker [options] -- COMMAND [ARGS...]

Claims jobs and runs COMMAND for each, with the job's hyperparameters as arguments
after it (--name=value; an option COMMAND sets already is not passed again, and a job
whose hyperparameter names are not option names fails) and in the environment:
  TRIALOG_JOB_ID, TRIALOG_EXPERIMENT_ID, TRIALOG_ATTEMPT
  TRIALOG_HPARAMS       the hyperparameters, JSON
  TRIALOG_PARAMS        the job's params, JSON
  TRIALOG_OUTPUT_DIR    write result.json (the job's result) and any files (its artifacts) here
  TRIALOG_METRICS_FILE  append JSON metric lines here, as an alternative to stdout
  TRIALOG_CHECKPOINT_FROM  PBT: the directory holding the parent job's outputs (empty for none,
                        or when it is not under --work-dir or a --checkpoint-root)
  TRIALOG_PARENT_ARTIFACTS PBT: the parent's artifacts, JSON (local files only from those places)

Only regular files in the output directory are read: symbolic links, FIFOs and the like are
skipped, and the job's log says so.

The command reports by printing lines on stdout (other lines become the job's log):
  TRIALOG_METRIC {"name":"loss","value":0.31,"step":12}
  TRIALOG_PROGRESS 0.42
Exit 0 completes the job; any other exit fails it (queued again while attempts remain).
When the server cancels or prunes the job, the command's process group gets SIGTERM,
then SIGKILL after the grace period.

options:
  --experiment ID|NAME  claim only this experiment's jobs (needed to run a search's trials);
                        the worker exits when the experiment is DONE
  --labels a,b          capabilities this worker offers (a job is claimable when its labels are a subset)
  --algorithms a,b      claim only jobs of these algorithms
  --slots N             jobs run at once (default 1)
  --lease SECONDS       lease length; heartbeats go every third of it (default 300)
  --grace SECONDS       between SIGTERM and SIGKILL when a command must stop (default 10)
  --worker-id ID        how the worker is named in the jobs it claims (default HOST-PID)
  --work-dir DIR        where each attempt's output directory is made (default ./trialog-runs)
  --checkpoint-root DIR a directory (besides --work-dir) where a PBT parent's checkpoint may lie;
                        may be given more than once
  --hparam-prefix P     put before each hyperparameter's name (default --)
  --hparam-delimiter D  between name and value (default =); a space means separate arguments,
                        and then a value starting with - fails the job unless it is a number
  --no-hparam-args      pass hyperparameters only in the environment
  --max-jobs N          exit after N jobs
  --idle-exit SECONDS   exit after this long with nothing to claim
  --poll SECONDS        how often an idle slot asks for work without a notification (default 5, at least 0.1)
  --drain               on Ctrl-C, let running jobs finish (default: stop them and release their jobs)

Ctrl-C (or SIGTERM) stops claiming and releases running jobs; a second Ctrl-C kills them at once.
Losing the server is survived: reports are kept and resent, claims retried.

${CONNECTION_HELP}

exit codes: 0 stopped as asked (signal, --max-jobs, --idle-exit, experiment done), 1 refused by the
server (bad key, no right), 2 bad usage, 3 no such experiment, 4 server unreachable at start,
130 stopped by a second Ctrl-C`;

export async function runWorkerCommand(args: string[]): Promise<number> {
  const separator = args.indexOf('--');
  const command = separator >= 0 ? args.slice(separator + 1) : [];
  const { values } = parseArgs({
    args: separator >= 0 ? args.slice(0, separator) : args,
    options: {
      ...connectionOptions,
      experiment: { type: 'string' },
      labels: { type: 'string' },
      algorithms: { type: 'string' },
      slots: { type: 'string' },
      lease: { type: 'string' },
      grace: { type: 'string' },
      'worker-id': { type: 'string' },
      'work-dir': { type: 'string' },
      'checkpoint-root': { type: 'string', multiple: true },
      'hparam-prefix': { type: 'string' },
      'hparam-delimiter': { type: 'string' },
      'no-hparam-args': { type: 'boolean' },
      'max-jobs': { type: 'string' },
      'idle-exit': { type: 'string' },
      poll: { type: 'string' },
      drain: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(WORKER_HELP);
    return EXIT.OK;
  }
  if (command.length === 0) throw new UsageError('worker needs the command to run after --, e.g. trialog worker -- python train.py');
  const client = clientFrom(values);
  // Messages quote job data and the command's stderr: shown inert, like every CLI output.
  const log = (message: string) => console.error(`[trialog worker ${new Date().toISOString()}] ${inert(message)}`);
  const settings: WorkerSettings = {
    command,
    workerId: values['worker-id'] ?? defaultWorkerId(),
    experimentId: undefined,
    labels: list(values.labels),
    algorithmIds: list(values.algorithms),
    slots: whole(values.slots, 'slots', 1, 1, 1024),
    leaseSeconds: whole(values.lease, 'lease', 300, 3, defaultLimits.leaseSecondsMax),
    graceMs: seconds(values.grace, 'grace', 10) * 1000,
    workDir: resolve(values['work-dir'] ?? 'trialog-runs'),
    cwd: process.cwd(),
    hyperparameterArgs: values['no-hparam-args']
      ? null
      : { prefix: values['hparam-prefix'] ?? '--', delimiter: values['hparam-delimiter'] ?? '=' },
    checkpointRoots: (values['checkpoint-root'] ?? []).map(checkpointRoot),
    pollMs: Math.max(0.1, seconds(values.poll, 'poll', 5)) * 1000,
    maxJobs: values['max-jobs'] === undefined ? undefined : whole(values['max-jobs'], 'max-jobs', 1, 1, Number.MAX_SAFE_INTEGER),
    idleExitMs: values['idle-exit'] === undefined ? undefined : seconds(values['idle-exit'], 'idle-exit', 0) * 1000,
    drain: values.drain === true,
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
  log(`${settings.workerId} serving ${client.options.url} with ${settings.slots} slot(s): ${command.join(' ')}`);
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

/** An experiment named by id or by name; its id. */
async function experimentId(client: TrialogClient, idOrName: string): Promise<string> {
  try {
    const experiment = (await client.experiment({ id: idOrName }, 0)) ?? (await client.experiment({ name: idOrName }, 0));
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
  if (!statSync(real).isDirectory()) throw new UsageError(`--checkpoint-root ${JSON.stringify(dir)} is not a directory`);
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
