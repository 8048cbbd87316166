/**
 * How a command's action hands its exit code to the entry module, and how
 * it loads its implementation: only when it runs, so that defining every
 * command (for `--help`, `help COMMAND`, suggestions) imports no client,
 * store or worker code.
 */
import { EXIT } from '../exit-codes.js';

/** The exit code of the action that ran (0 when none did: help, version). */
export const outcome = { code: EXIT.OK as number };

/** An action that runs `work` (which imports what it needs) and keeps its exit code. */
export function action<A extends unknown[]>(work: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    outcome.code = await work(...args);
  };
}
