/**
 * Commands that work on the event log itself, without a server: they read
 * the same configuration as the server (TRIALOG_DB, EVENTSTORE_URL). Their
 * options and help are in ./commands/log.ts.
 */
import { loadConfig } from '../config.js';
import { EXIT } from './exit-codes.js';
import { inert } from './inert-text.js';
import { exportToFile, importLog, replay, verifyLog } from './log-commands.js';
import { openCliStore, type CliStore } from './store.js';

/** Runs `use` on the configured store, closed afterwards. */
async function withStore(use: (cli: CliStore) => Promise<number>): Promise<number> {
  const cli = openCliStore(loadConfig());
  try {
    return await use(cli);
  } finally {
    await cli.close();
  }
}

export function replayCommand(options: { verify?: boolean }): Promise<number> {
  return withStore(async (cli) => {
    const result = await replay(cli, { verify: options.verify === true });
    if (!options.verify) {
      console.log(`replayed ${result.events} events`);
      return EXIT.OK;
    }
    if (!result.identical) {
      // The difference quotes rows, which hold what clients wrote (worker ids, labels, errors): shown inert.
      console.log(inert(`different: ${result.difference}`));
      return EXIT.FAILED;
    }
    const counts = Object.entries(result.rowCounts ?? {})
      .map(([table, n]) => `${table} ${n}`)
      .join(', ');
    console.log(`identical: ${result.events} events; rows: ${counts}`);
    return EXIT.OK;
  });
}

export function exportCommand(options: { out?: string }): Promise<number> {
  return withStore(async (cli) => {
    await exportToFile(cli, options.out);
    return EXIT.OK;
  });
}

export function importCommand(file: string, options: { append?: boolean }): Promise<number> {
  return withStore(async (cli) => {
    const { events, resumed } = await importLog(cli, file, { append: options.append === true });
    console.log(`imported ${events} events${resumed ? ' (resumed an earlier import)' : ''}`);
    return EXIT.OK;
  });
}

export function verifyCommand(): Promise<number> {
  return withStore(async (cli) => {
    const result = await verifyLog(cli);
    const categories = Object.entries(result.byCategory)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    console.log(
      `${result.events} events in ${result.streams} streams (${categories}); ${result.problemCount} problems`,
    );
    for (const problem of result.problems) console.log(`  ${inert(problem)}`);
    if (result.problemCount > result.problems.length)
      console.log(`  … and ${result.problemCount - result.problems.length} more`);
    return result.problemCount === 0 ? EXIT.OK : EXIT.FAILED;
  });
}
