/**
 * The everyday commands for people: look at jobs and experiments, follow a
 * log, watch a search, cancel, create. Each talks to a server through the
 * typed client; each has its own --help (in ./people/).
 */
import { cancelCommand, jobCommand, jobsCommand } from './people/jobs.js';
import { experimentCommand, experimentsCommand } from './people/experiments.js';
import { logsCommand } from './people/logs.js';
import { watchCommand } from './people/watch.js';

export const PEOPLE_COMMANDS = ['jobs', 'job', 'logs', 'cancel', 'experiment', 'experiments', 'watch'] as const;

export const PEOPLE_HELP = `people commands (talk to a server; --url, --key, --json on each):
  jobs [--status S,..] [--experiment E] [--label L] [--worker W] [--first N | --all]
                                  list jobs: status, attempts, objective, hyperparameters
  job <id>                        one job: status, timings, error, result, artifacts, metrics
  logs <id> [-f] [--after N] [--stream stdout|stderr]
                                  a job's log; with -f follow it until the job ends
  cancel <id> [--reason TEXT]     cancel a queued or running job
  experiment create -f FILE       create an experiment from YAML or JSON (- for stdin)
  experiment show <id|name>       settings, job counts, best job and leaderboard
  experiment pause|resume|finish <id|name>
                                  stop handing out its jobs, start again, or end it
  experiments [--status S]        list experiments with their job counts
  watch <experiment>              an experiment's progress, live, until it is done`;

const RUN: Record<(typeof PEOPLE_COMMANDS)[number], (args: string[]) => Promise<number>> = {
  jobs: jobsCommand,
  job: jobCommand,
  logs: logsCommand,
  cancel: cancelCommand,
  experiment: experimentCommand,
  experiments: experimentsCommand,
  watch: watchCommand,
};

export function runPeopleCommand(command: (typeof PEOPLE_COMMANDS)[number], args: string[]): Promise<number> {
  return RUN[command](args);
}
