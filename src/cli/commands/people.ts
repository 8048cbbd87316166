/**
 * The everyday commands for people, as the parser sees them: look at jobs
 * and experiments, follow a log, watch a search, cancel, create. Each action
 * imports its implementation (in ../people/) when it runs.
 */
import { DEFAULT_FIRST, JOB_SORT_FIELDS, PAGE_SIZE } from './job-listing-options.js';
import type { Command } from 'commander';
import { EXIT_CODES_SUMMARY } from '../exit-codes.js';
import { action } from './outcome.js';
import { peopleOptions } from './connection-options.js';

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
const exitCodes = (extra = '') => `\n${EXIT_CODES_SUMMARY}${extra}\n`;

export function definePeopleCommands(program: Command): void {
  peopleOptions(
    program
      .command('jobs')
      .summary('list jobs, newest first: status, attempts, objective, hyperparameters')
      .description(
        `Lists jobs, newest first unless --sort says otherwise: id, status, experiment, attempts (made/allowed), ` +
          `objective value, hyperparameters (compact JSON, cut to fit; --json has them whole), created (local time). ` +
          `On a terminal the table is cut to its width; piped, nothing is cut.`,
      )
      .option(
        '--status <statuses>',
        'only jobs in these statuses, comma-separated, in any case: queued, running, succeeded, failed, cancelled, pruned',
      )
      .option('--experiment <id|name>', 'only the jobs of this experiment, named by its id or its name')
      .option('--label <label>', 'only jobs carrying this label')
      .option('--worker <id>', 'only jobs of this worker id')
      .option(
        '--sort <field[:dir]>',
        `order by ${JOB_SORT_FIELDS.join(', ')}, then by creation; dir is asc or desc (default desc: newest, highest priority, ` +
          'highest objective first). Sorted by the server, page by page',
        'created:desc',
      )
      .option(
        '--first <n>',
        `the first N jobs (default ${DEFAULT_FIRST}, at most ${PAGE_SIZE}); the last line says how many there are in all`,
      )
      .option('--all', 'every job that matches, fetched page by page'),
  )
    .addHelpText(
      'after',
      `\nWith --json: {"totalCount": N, "jobs": [...]}.\n` +
        examples(
          'trialog jobs --status running,queued',
          'trialog jobs --sort objective:asc --experiment resnet-sweep --first 10',
          "trialog jobs --experiment resnet-sweep --all --json | jq '.jobs[].id'",
        ) +
        exitCodes(),
    )
    .action(action(async (options) => (await import('../people/jobs.js')).jobsCommand(options)));

  peopleOptions(
    program
      .command('job')
      .summary('one job: status, timings, why it was pruned or cancelled, result, artifacts, metrics')
      .description(
        'Shows one job: status, experiment, attempts, worker, lease, progress, timings (local time), error, ' +
          'why it was pruned (the rule, step, value, threshold) or cancelled (the reason, who), hyperparameters, ' +
          'params, result, artifacts and the last value of each metric. With --json, the job as the server answers it.',
      )
      .argument('<job-id>', 'the job'),
  )
    .addHelpText('after', examples('trialog job job_3f2a9c') + exitCodes())
    .action(action(async (jobId: string, options) => (await import('../people/jobs.js')).jobCommand(jobId, options)));

  peopleOptions(
    program
      .command('logs')
      .summary("a job's log; with -f follow it until the job ends, exiting with how it ended")
      .description(
        "Prints a job's log, each line's text as the job wrote it (its control characters shown as escapes " +
          'such as \\x1b unless --raw). Lines the job wrote to stderr are printed on standard output, in the order ' +
          "they were written among the stdout lines: --stream picks one stream, --json shows each line's stream.\n\n" +
          'With -f, it then prints new lines as the job writes them until the job has ended, then the final ' +
          'status on standard error ("job ID SUCCEEDED"), and exits with it: 0 succeeded, 5 failed, ' +
          '6 cancelled, 7 pruned.',
      )
      .argument('<job-id>', 'the job')
      .option('-f, --follow', 'then follow the log until the job has ended; the exit code says how it ended')
      .option('--after <offset>', 'only the lines after this offset (lines are numbered from 0)')
      .option('--stream <stream>', 'only the lines of one stream: stdout or stderr'),
  )
    .addHelpText(
      'after',
      '\nWith --json: a JSON array of {offset, stream, text, timestamp}; with -f one such object per line\n' +
        '(NDJSON) as the lines come, then {"jobId", "status"} once the job has ended.\n' +
        examples(
          'trialog logs job_3f2a9c            the whole log so far',
          'trialog logs job_3f2a9c -f         and follow it until the job ends',
          'trialog logs job_3f2a9c --after 1200 --stream stderr',
        ) +
        exitCodes('; with -f: 5 the job failed, 6 it was cancelled, 7 it was pruned'),
    )
    .action(action(async (jobId: string, options) => (await import('../people/logs.js')).logsCommand(jobId, options)));

  peopleOptions(
    program
      .command('cancel')
      .summary('cancel a queued or running job')
      .description(
        "Cancels a queued or running job. A running job's worker learns it at its next heartbeat and stops. " +
          'A job that has already ended cannot be cancelled (exit 1). With --json, the cancelled job.',
      )
      .argument('<job-id>', 'the job')
      .option('--reason <text>', "why, kept in the job's history and shown by trialog job"),
  )
    .addHelpText('after', examples("trialog cancel job_3f2a9c --reason 'wrong dataset'") + exitCodes())
    .action(
      action(async (jobId: string, options) => (await import('../people/jobs.js')).cancelCommand(jobId, options)),
    );

  defineExperimentCommand(program);

  peopleOptions(
    program
      .command('experiments')
      .summary('list experiments with their job counts')
      .description(
        'Lists experiments, oldest first, with their job counts and best objective value. With --json, a JSON array of the experiments.',
      )
      .option('--status <status>', 'only experiments in this status: running, paused or done'),
  )
    .addHelpText('after', examples('trialog experiments --status running') + exitCodes())
    .action(action(async (options) => (await import('../people/experiments.js')).experimentsCommand(options)));

  peopleOptions(
    program
      .command('watch')
      .summary("an experiment's progress, live, until it is done")
      .description(
        "Prints the experiment's state, then again each time it changes: the time, its status, its job counts " +
          'and its best objective value and job. Exits 0 once the experiment is done. On a terminal the line is ' +
          'redrawn in place; when the output goes to a file or a pipe, each change gets a line of its own. ' +
          'With --json, one JSON object per change (NDJSON): {"at", "id", "name", "status", "jobCounts", "bestJob"}.',
      )
      .argument('<experiment>', 'the experiment, by id or name'),
  )
    .addHelpText('after', examples('trialog watch resnet-sweep') + exitCodes())
    .action(
      action(async (which: string, options) => (await import('../people/watch.js')).watchCommand(which, options)),
    );
}

const EXPERIMENT_FILE_HELP = `
FILE holds the GraphQL CreateExperimentInput, as YAML (.yaml, .yml) or JSON (.json); another name,
or standard input, is read as JSON or else as YAML. For example:

  name: resnet-sweep
  objective: { metric: val_loss, direction: MINIMIZE }
  maxConcurrent: 4
  scheduler:
    random:
      maxJobs: 50
      space:
        - name: lr
          distribution: { logUniform: { low: 1.0e-5, high: 1.0e-1 } }
        - name: batch
          distribution: { choice: { values: [32, 64, 128] } }

A file that cannot be read or parsed is bad usage (2); settings the server refuses, or a name
already taken, exit 1 with the server's message.
`;

function defineExperimentCommand(program: Command): void {
  const experiment = program
    .command('experiment')
    .summary('create an experiment, show one, pause, resume or finish it')
    .description('Creates an experiment from a file, shows one, or changes its status.')
    .addHelpText(
      'after',
      examples('trialog experiment create -f sweep.yaml', 'trialog experiment show resnet-sweep --top 20') +
        exitCodes(),
    );

  peopleOptions(
    experiment
      .command('create')
      .description('Creates an experiment from FILE (- reads standard input); prints its id and name.')
      .requiredOption('-f, --file <file>', 'the experiment, as YAML or JSON (- for standard input)'),
  )
    .addHelpText('after', EXPERIMENT_FILE_HELP + examples('trialog experiment create -f sweep.yaml') + exitCodes())
    .action(action(async (options) => (await import('../people/experiments.js')).createCommand(options)));

  peopleOptions(
    experiment
      .command('show')
      .description(
        'Shows its settings, job counts, best job, and a leaderboard of its best jobs, one column per ' +
          'hyperparameter (compact JSON when there are more than 6).',
      )
      .argument('<experiment>', 'the experiment, by id or name')
      .option('--top <n>', 'how many of its best jobs the leaderboard shows (default 10)'),
  )
    .addHelpText('after', examples('trialog experiment show resnet-sweep --top 20') + exitCodes())
    .action(
      action(async (which: string, options) => (await import('../people/experiments.js')).showCommand(which, options)),
    );

  const changes = {
    pause: 'Hands out none of its jobs until resumed (running jobs go on).',
    resume: 'Hands out its jobs again.',
    finish: 'Ends it: its queued and running jobs are cancelled.',
  } as const;
  for (const [change, description] of Object.entries(changes) as [keyof typeof changes, string][]) {
    peopleOptions(
      experiment.command(change).description(description).argument('<experiment>', 'the experiment, by id or name'),
    )
      .addHelpText('after', examples(`trialog experiment ${change} resnet-sweep`) + exitCodes())
      .action(
        action(async (which: string, options) =>
          (await import('../people/experiments.js')).statusCommand(change, which, options),
        ),
      );
  }
}
