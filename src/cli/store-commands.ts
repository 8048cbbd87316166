/**
 * Commands that work on the event log itself, without a server: they read
 * the same configuration as the server (TRIALOG_DB, EVENTSTORE_URL).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { EXIT } from './exit-codes.js';
import { exportToFile, importLog, replay, verifyLog } from './log-commands.js';
import { openCliStore } from './store.js';
import { UsageError } from './exit-codes.js';

export const STORE_COMMANDS = ['replay', 'export', 'import', 'verify'] as const;

export const STORE_HELP = `log commands (on the store the configuration names, no server needed):
  replay [--verify]        rebuild every read model from position zero into a scratch database;
                           with --verify, compare it with the live read models table by table and
                           print the first difference (exit 1) or "identical" with the row counts
  export [--out FILE]      write the whole log as NDJSON (stream, revision, id, type, timestamp,
                           data, metadata), to FILE or standard output
  import FILE [--append]   append an export to the configured store (refuses a store that holds
                           events unless --append); run it again after an interruption to resume
  verify                   check the log: revisions contiguous per stream, every event valid
                           against its schema, every job's transitions legal

  configuration: TRIALOG_DB (SQLite file, default ./data/trialog.db), EVENTSTORE_URL (esdb://...)`;

export async function runStoreCommand(command: (typeof STORE_COMMANDS)[number], args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { verify: { type: 'boolean' }, out: { type: 'string' }, append: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(STORE_HELP);
    return EXIT.OK;
  }
  const cli = openCliStore(loadConfig());
  try {
    switch (command) {
      case 'replay': {
        const result = await replay(cli, { verify: values.verify === true });
        if (!values.verify) {
          console.log(`replayed ${result.events} events`);
          return EXIT.OK;
        }
        if (!result.identical) {
          console.log(`different: ${result.difference}`);
          return EXIT.FAILED;
        }
        const counts = Object.entries(result.rowCounts ?? {}).map(([table, n]) => `${table} ${n}`).join(', ');
        console.log(`identical: ${result.events} events; rows: ${counts}`);
        return EXIT.OK;
      }
      case 'export':
        await exportToFile(cli, values.out);
        return EXIT.OK;
      case 'import': {
        const file = positionals[0];
        if (!file) throw new UsageError('import needs the file to read');
        const { events, resumed } = await importLog(cli, file, { append: values.append === true });
        console.log(`imported ${events} events${resumed ? ' (resumed an earlier import)' : ''}`);
        return EXIT.OK;
      }
      case 'verify': {
        const result = await verifyLog(cli);
        const categories = Object.entries(result.byCategory).map(([c, n]) => `${c} ${n}`).join(', ');
        console.log(`${result.events} events in ${result.streams} streams (${categories}); ${result.problemCount} problems`);
        for (const problem of result.problems) console.log(`  ${problem}`);
        if (result.problemCount > result.problems.length) console.log(`  … and ${result.problemCount - result.problems.length} more`);
        return result.problemCount === 0 ? EXIT.OK : EXIT.FAILED;
      }
    }
  } finally {
    await cli.close();
  }
}
