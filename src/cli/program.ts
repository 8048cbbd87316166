/**
 * The `trialog` command line as commander sees it: every command, its
 * arguments, options and help. Defining them loads nothing but commander:
 * each action imports its implementation when it runs (see ./commands/).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { defineLogCommands } from './commands/log.js';
import { definePeopleCommands } from './commands/people.js';
import { defineWorkerCommand } from './commands/worker.js';
import { EXIT_CODES_SUMMARY } from './exit-codes.js';
import { inert } from './inert-text.js';

export function buildProgram(): Command {
  const program = new Command('trialog')
    .description('Trialog: ML training jobs and hyperparameter searches, from the command line.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand('help [command]', 'show help for a command')
    // Settings the commands defined below inherit: errors as `trialog: …` (inert: they quote what was
    // typed), a suggestion for a mistyped command or option, and no exit from inside the parser.
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`trialog: ${inert(text.replace(/^error: /, ''))}`) })
    .addHelpText('after', `\n${EXIT_CODES_SUMMARY}\n`);
  definePeopleCommands(program);
  defineWorkerCommand(program);
  defineLogCommands(program);
  return program;
}

/**
 * The version in our package.json: found by walking up from this module, so it
 * works from the sources (src/cli) and from a compiled copy (dist/src/cli) alike.
 */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trialog' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
