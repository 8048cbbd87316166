/**
 * `trialog <command>`: the operator's tool. Reads the same configuration as
 * the server (TRIALOG_DB, EVENTSTORE_URL). Exit codes: 0 done, 1 a check
 * failed (differences, problems), 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { ImportRefused, exportToFile, importLog, replay, verifyLog } from './log-commands.js';
import { openCliStore } from './store.js';

const HELP = `usage: trialog <command> [options]

commands:
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: { verify: { type: 'boolean' }, out: { type: 'string' }, append: { type: 'boolean' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const cli = openCliStore(loadConfig());
  try {
    switch (command) {
      case 'replay': {
        const result = await replay(cli, { verify: values.verify === true });
        if (!values.verify) {
          console.log(`replayed ${result.events} events`);
          return 0;
        }
        if (!result.identical) {
          console.log(`different: ${result.difference}`);
          return 1;
        }
        const counts = Object.entries(result.rowCounts ?? {}).map(([table, n]) => `${table} ${n}`).join(', ');
        console.log(`identical: ${result.events} events; rows: ${counts}`);
        return 0;
      }
      case 'export': {
        await exportToFile(cli, values.out);
        return 0;
      }
      case 'import': {
        const file = positionals[0];
        if (!file) throw new UsageError('import needs the file to read');
        const { events, resumed } = await importLog(cli, file, { append: values.append === true });
        console.log(`imported ${events} events${resumed ? ' (resumed an earlier import)' : ''}`);
        return 0;
      }
      case 'verify': {
        const result = await verifyLog(cli);
        const categories = Object.entries(result.byCategory).map(([c, n]) => `${c} ${n}`).join(', ');
        console.log(`${result.events} events in ${result.streams} streams (${categories}); ${result.problemCount} problems`);
        for (const problem of result.problems) console.log(`  ${problem}`);
        if (result.problemCount > result.problems.length) console.log(`  … and ${result.problemCount - result.problems.length} more`);
        return result.problemCount === 0 ? 0 : 1;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await cli.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof ImportRefused) {
      console.error(`trialog: ${(error as Error).message}`);
      process.exit(2);
    }
    console.error(`trialog: ${(error as Error).message ?? error}`);
    process.exit(1);
  },
);
