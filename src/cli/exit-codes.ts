/**
 * Exit codes every `trialog` command keeps, so scripts can branch on them.
 * The README's command-line section lists the same table.
 *
 * Light on purpose: the entry module loads this, and `trialog --help` must
 * not pay for the client (only its error classes, which import nothing heavy).
 */
import { NetworkError, NoEndpointError, TrialogApiError } from '../client/errors.js';

export const EXIT = {
  /** Done as asked; `logs -f`: the job succeeded. */
  OK: 0,
  /** The command ran and the answer is "no": a check found problems, the server refused the call. */
  FAILED: 1,
  /** Bad usage or configuration (a mistyped option, a URL with no GraphQL endpoint): nothing was done. */
  USAGE: 2,
  /** What was named (job, experiment) does not exist. */
  NOT_FOUND: 3,
  /** The server could not be reached. */
  UNREACHABLE: 4,
  /** `logs -f`: the job ended FAILED. */
  JOB_FAILED: 5,
  /** `logs -f`: the job ended CANCELLED. */
  JOB_CANCELLED: 6,
  /** `logs -f`: the job ended PRUNED (stopped early by its experiment's rule). */
  JOB_PRUNED: 7,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** The exit code that says how a job ended, for commands that wait for the end. */
export const EXIT_FOR_FINAL_STATUS = {
  SUCCEEDED: EXIT.OK,
  FAILED: EXIT.JOB_FAILED,
  CANCELLED: EXIT.JOB_CANCELLED,
  PRUNED: EXIT.JOB_PRUNED,
} as const;

/** The one-line summary that help texts end with. */
export const EXIT_CODES_SUMMARY =
  'exit codes: 0 done, 1 failed (a check found problems, the server refused), 2 bad usage or\n' +
  'configuration (also: no GraphQL endpoint at --url), 3 not found, 4 server unreachable, 130 interrupted';

/** Wrong usage: the message says what is wrong, the command exits 2. */
export class UsageError extends Error {}

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof NoEndpointError) return EXIT.USAGE;
  if (error instanceof NetworkError) return EXIT.UNREACHABLE;
  if (error instanceof TrialogApiError) return error.code === 'NOT_FOUND' ? EXIT.NOT_FOUND : EXIT.FAILED;
  return EXIT.FAILED;
}
