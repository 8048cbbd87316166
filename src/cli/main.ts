/**
 * `trialog <command>`: the command line's entry. It loads the argument parser
 * and the command definitions only (./program.ts); each command imports its
 * implementation (the client, the store, the worker) when it runs, so
 * `trialog --help` and `trialog help jobs` start about as fast as node itself.
 * Exit codes are listed in ./exit-codes.ts and the README.
 */
import { CommanderError } from 'commander';
import { outcome } from './commands/outcome.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { inert } from './inert-text.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return outcome.code;
  } catch (error) {
    // The parser has printed its message (or the help, or the version): only the code is left to say.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw error;
  }
}

// A reader that stops early (`trialog logs ID | head -1`) is not an error of ours: end quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.OK);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  async (error: unknown) => {
    // A bad configuration (TRIALOG_DB, EVENTSTORE_URL…) is a usage error; config.ts is only loaded by commands that read it.
    const { ConfigError } = await import('../config.js');
    const code = error instanceof ConfigError ? EXIT.USAGE : exitCodeFor(error);
    // A server's message may quote job data or what was typed: never let it drive the terminal.
    console.error(`trialog: ${inert(error instanceof Error ? error.message : String(error))}`);
    exitAfterOutput(code);
  },
);

/**
 * process.exit() drops whatever a pipe has not taken yet (a long log piped to
 * another program was cut short). A write's callback runs once every write
 * before it has been handed over, so exit from there. (It exits at all because
 * an open socket or timer must not keep a finished command alive.)
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
