/** `trialog worker` as the parser sees it; the worker itself is imported when it runs. */
import { Option, type Command } from 'commander';
import { action } from './outcome.js';
import { connectionOptions } from './connection-options.js';

const WORKER_DESCRIPTION = `Claims jobs and runs COMMAND for each, with the job's hyperparameters as arguments
after it (--name=value; an option COMMAND sets already is not passed again, and a job
whose hyperparameter names are not option names fails) and in the environment:
  TRIALOG_JOB_ID, TRIALOG_EXPERIMENT_ID, TRIALOG_ATTEMPT
  TRIALOG_SLOT          which slot runs it, 0 to --slots - 1 (pin a GPU per slot)
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

Ctrl-C (or SIGTERM) stops claiming and releases running jobs; a second Ctrl-C kills them at once.
Losing the server is survived: reports are kept and resent, claims retried.`;

const WORKER_AFTER = `
Examples:
  trialog worker --labels gpu --slots 2 -- python train.py
  trialog worker --experiment resnet-sweep --idle-exit 60 -- ./train.sh --epochs 10
  trialog worker --labels gpu --slots 4     (no command: every running experiment that carries its own)

exit codes: 0 stopped as asked (signal, --max-jobs, --idle-exit, experiment done), 1 refused by the
server (bad key, no right), 2 bad usage (or no GraphQL endpoint at --url), 3 no such experiment,
4 server unreachable at start, 130 stopped by a second Ctrl-C
`;

/** The worker's options as the parser hands them over (checked by the worker command). */
export interface WorkerValues {
  url?: string;
  key?: string;
  experiment?: string;
  labels?: string;
  algorithms?: string;
  slots?: string;
  lease?: string;
  grace?: string;
  workerId?: string;
  workDir?: string;
  checkpointRoot?: string[];
  hparamPrefix?: string;
  hparamDelimiter?: string;
  /** False with --no-hparam-args. */
  hparamArgs: boolean;
  maxJobs?: string;
  idleExit?: string;
  poll?: string;
  drain?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function defineWorkerCommand(program: Command): void {
  connectionOptions(
    program
      .command('worker')
      .usage('[options] -- COMMAND [ARGS...]')
      .summary('claim jobs and run COMMAND for each')
      .description(WORKER_DESCRIPTION)
      .argument(
        '[command...]',
        "the command to run for each job, after --; without one (and without --experiment), each trial runs its experiment's command",
      )
      .option(
        '--experiment <id|name>',
        "claim only this experiment's jobs (needed to run a search's trials); the worker exits when the experiment is DONE",
      )
      .option('--labels <a,b>', 'capabilities this worker offers (a job is claimable when its labels are a subset)')
      .option('--algorithms <a,b>', 'claim only jobs of these algorithms')
      .option('--slots <n>', 'jobs run at once (default 1)')
      .option('--lease <seconds>', 'lease length; heartbeats go every third of it (default 300)')
      .option('--grace <seconds>', 'between SIGTERM and SIGKILL when a command must stop (default 10)')
      .option('--worker-id <id>', 'how the worker is named in the jobs it claims (default HOST-PID)')
      .option('--work-dir <dir>', "where each attempt's output directory is made (default ./trialog-runs)")
      .option(
        '--checkpoint-root <dir>',
        "a directory (besides --work-dir) where a PBT parent's checkpoint may lie; may be given more than once",
        collect,
      )
      .option('--hparam-prefix <p>', "put before each hyperparameter's name (default --)")
      .option(
        '--hparam-delimiter <d>',
        'between name and value (default =); a space means separate arguments, and then a value starting with - fails the job unless it is a number',
      )
      .option('--no-hparam-args', 'pass hyperparameters only in the environment')
      .option('--max-jobs <n>', 'exit after N jobs')
      .option('--idle-exit <seconds>', 'exit after this long with nothing to claim')
      .option(
        '--poll <seconds>',
        'how often an idle slot asks for work without a notification (default 5, at least 0.1)',
      )
      .option('--drain', 'on Ctrl-C, let running jobs finish (default: stop them and release their jobs)'),
    { json: false },
  )
    // Accepted as it always was (the connection's options included it); the worker prints no tables.
    .addOption(new Option('--json').hideHelp())
    .addHelpText('after', WORKER_AFTER)
    .action(
      action(async (command: string[], values: WorkerValues, self: Command) =>
        (await import('../worker-command.js')).runWorkerCommand(command, values, separatorGiven(self)),
      ),
    );
}

/** Whether COMMAND came after `--`, as it must: a word before it is a mistyped option, not a command. */
function separatorGiven(self: Command): boolean {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--');
  return at >= 0 && argv.length - at - 1 === self.args.length;
}
