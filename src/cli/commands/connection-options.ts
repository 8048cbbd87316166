/**
 * The options every command that talks to a server shares, as the parser
 * sees them. No client here: the entry module loads this for `--help`.
 */
import type { Command } from 'commander';

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

/** What a command that talks to a server is given. Flags win over the environment (see ../connection.ts). */
export interface ConnectionValues {
  url?: string;
  key?: string;
  json?: boolean;
  /** People commands only: print job text as it is, escape sequences included. */
  raw?: boolean;
}

export function connectionOptions(command: Command, { json = true }: { json?: boolean } = {}): Command {
  command
    .option('--url <url>', `the server's GraphQL endpoint (default $TRIALOG_URL, else ${DEFAULT_URL})`)
    .option('--key <key>', 'an API key (default $TRIALOG_KEY); not needed on a server running open on loopback');
  if (json) command.option('--json', 'print JSON for scripts instead of tables');
  return command;
}

/** The connection's options, and --raw: for the commands that print what jobs wrote. */
export function peopleOptions(command: Command): Command {
  return connectionOptions(command).option(
    '--raw',
    'print what jobs wrote (log lines, errors, names, values) as it is, escape sequences included; by default ' +
      'every control character in it is shown as an escape such as \\x1b, on a terminal or not',
  );
}
