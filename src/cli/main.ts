/**
 * `trialog <command>`: the command line. Log commands work on the store
 * directly; the others talk to a server through the typed client. Exit codes
 * are listed in ./exit-codes.ts and the README.
 */
import { ConfigError } from '../config.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { inert } from './inert-text.js';
import { PEOPLE_COMMANDS, PEOPLE_HELP, runPeopleCommand } from './people-commands.js';
import { STORE_COMMANDS, STORE_HELP, runStoreCommand } from './store-commands.js';
import { runWorkerCommand } from './worker-command.js';

const HELP = `usage: trialog <command> [options]     (trialog <command> --help for its options)

worker commands:
  worker [options] -- COMMAND...   claim jobs and run COMMAND for each (see trialog worker --help)

${PEOPLE_HELP}

${STORE_HELP}

exit codes: 0 done, 1 failed (a check found problems, the server refused), 2 bad usage or
configuration, 3 not found, 4 server unreachable, 130 interrupted`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    console.error(HELP); // asked for nothing: usage, on stderr
    return EXIT.USAGE;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return EXIT.OK;
  }
  if (command === 'worker') return runWorkerCommand(rest);
  if ((STORE_COMMANDS as readonly string[]).includes(command)) {
    return runStoreCommand(command as (typeof STORE_COMMANDS)[number], rest);
  }
  if ((PEOPLE_COMMANDS as readonly string[]).includes(command)) {
    return runPeopleCommand(command as (typeof PEOPLE_COMMANDS)[number], rest);
  }
  console.error(`trialog: unknown command ${command}\n\n${HELP}`);
  return EXIT.USAGE;
}

// A reader that stops early (`trialog logs ID | head -1`) is not an error of ours: end quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.OK);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (error: unknown) => {
    const code = error instanceof ConfigError || isParseArgsError(error) ? EXIT.USAGE : exitCodeFor(error);
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

/** node:util parseArgs's own errors (unknown option, missing value) are usage errors. */
function isParseArgsError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS');
}
