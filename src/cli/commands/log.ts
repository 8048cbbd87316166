/**
 * The commands on the event log itself, as the parser sees them. They work
 * on the store the configuration names (TRIALOG_DB, EVENTSTORE_URL), with no
 * server; each action imports the store code only when it runs.
 */
import type { Command } from 'commander';
import { action } from './outcome.js';

const CONFIGURATION = `
The store is the one the server's configuration names:
  TRIALOG_DB       the SQLite file (default ./data/trialog.db), also where the read models live
  EVENTSTORE_URL   an EventStoreDB connection string (esdb://...); the events are read from there
A bad configuration is reported in one line, exit 2.
`;

const after = (examples: string[], codes: string) =>
  `${CONFIGURATION}\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n\n${codes}\n`;

export function defineLogCommands(program: Command): void {
  program
    .command('replay')
    .summary('rebuild every read model from the log; with --verify, compare with the live ones')
    .description(
      'Rebuilds every read model from position zero of the log into a scratch database (the live read ' +
        'models are not touched), and prints how many events it replayed. A running server is no bother.\n\n' +
        'With --verify, it compares the rebuilt read models with the live ones, table by table, as they ' +
        'stand at the live checkpoint, and prints "identical: N events; rows: ..." (exit 0) or the first ' +
        'difference (exit 1). Live read models that stop short of the log count as a difference.',
    )
    .option('--verify', 'compare the rebuilt read models with the live ones')
    .addHelpText(
      'after',
      after(
        ['trialog replay', 'TRIALOG_DB=/var/lib/trialog/trialog.db trialog replay --verify'],
        `exit codes: 0 replayed (identical), 1 a difference, 2 bad usage or configuration`,
      ),
    )
    .action(
      action(async (options: { verify?: boolean }) => (await import('../store-commands.js')).replayCommand(options)),
    );

  program
    .command('export')
    .summary('write the whole log as NDJSON, to a file or standard output')
    .description(
      'Writes the whole log, oldest event first, one JSON object per line (NDJSON): ' +
        '  {"stream", "revision", "id", "type", "timestamp", "data", "metadata"} ' +
        'each event in its current shape (older versions upcast). The log is read a page at a time; ' +
        'progress goes to standard error on a terminal. The output is what `trialog import` reads.',
    )
    .option('--out <file>', 'write to FILE instead of standard output')
    .addHelpText(
      'after',
      after(
        ['trialog export --out backup.ndjson', 'trialog export | gzip > backup.ndjson.gz'],
        'exit codes: 0 exported, 1 failed (the store could not be read, the file written), 2 bad usage or configuration',
      ),
    )
    .action(action(async (options: { out?: string }) => (await import('../store-commands.js')).exportCommand(options)));

  program
    .command('import')
    .summary('append an export to the configured store; run again to resume')
    .description(
      "Appends an export (see `trialog export`) to the configured store, stream by stream in the file's " +
        'order, at the revisions the file gives, with its event ids and timestamps. Every line is checked ' +
        "first: an event that is not one, or a stream's revisions with a gap, stops the import.\n\n" +
        'A store that already holds events is refused (exit 2) unless --append is given. An import that was ' +
        'interrupted can be run again with the same file: the events it wrote are recognised by their ids and ' +
        'not written twice. Start the server afterwards (or run `trialog replay`) to build the read models.',
    )
    .argument('<file>', 'the NDJSON export to read')
    .option('--append', 'add to a store that already holds events')
    .addHelpText(
      'after',
      after(
        [
          'TRIALOG_DB=new.db trialog import backup.ndjson',
          'EVENTSTORE_URL=esdb://localhost:2113?tls=false trialog import backup.ndjson',
        ],
        'exit codes: 0 imported, 1 failed (a bad line, a conflicting event), 2 bad usage or configuration,\n' +
          'or a store that is not empty without --append',
      ),
    )
    .action(
      action(async (file: string, options: { append?: boolean }) =>
        (await import('../store-commands.js')).importCommand(file, options),
      ),
    );

  program
    .command('verify')
    .summary("check the log: revisions, every event's schema, every job's transitions")
    .description(
      'Reads the whole log and checks it: revisions contiguous in each stream, every event valid against ' +
        "its schema (after upcasting), every job's history made of legal transitions, the API keys' events " +
        'legal in order, no stream of an unknown kind. Prints "N events in M streams (by category); P problems" ' +
        'and the first 20 problems.',
    )
    .addHelpText(
      'after',
      after(
        ['trialog verify', 'TRIALOG_DB=restored.db trialog verify'],
        'exit codes: 0 no problem, 1 problems found (or the store could not be read), 2 bad usage or configuration',
      ),
    )
    .action(action(async () => (await import('../store-commands.js')).verifyCommand()));
}
