/**
 * Exit codes every `trialog` command keeps, so scripts can branch on them.
 * The README's command-line section lists the same table.
 */
import { NetworkError, TrialogApiError } from '../client/client.js';

export const EXIT = {
  /** Done as asked. */
  OK: 0,
  /** The command ran and the answer is "no": a check found problems, a job failed, the server refused the call. */
  FAILED: 1,
  /** Bad usage or configuration: nothing was done. */
  USAGE: 2,
  /** What was named (job, experiment) does not exist. */
  NOT_FOUND: 3,
  /** The server could not be reached. */
  UNREACHABLE: 4,
  /** Stopped by a second Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** Wrong usage: the message says what is wrong, the command exits 2. */
export class UsageError extends Error {}

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof NetworkError) return EXIT.UNREACHABLE;
  if (error instanceof TrialogApiError) return error.code === 'NOT_FOUND' ? EXIT.NOT_FOUND : EXIT.FAILED;
  return EXIT.FAILED;
}
