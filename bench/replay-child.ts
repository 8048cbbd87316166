/**
 * Runs in its own process so the bench can sample its memory: rebuilds every
 * read model of TRIALOG_DB's log from zero into a scratch database (what
 * `trialog replay` does), or reads the whole log without projecting it (the
 * store's read ceiling), and prints {events, ms} as JSON.
 */
import { loadConfig } from '../src/config.js';
import { openCliStore } from '../src/cli/store.js';
import { replay } from '../src/cli/log-commands.js';

const mode = process.argv[2];
const cli = openCliStore(loadConfig());
const started = performance.now();
let events = 0;
if (mode === 'read') {
  let after: string | undefined;
  for (;;) {
    const page = await cli.store.readAll({ after, maxCount: 5000 });
    if (page.length === 0) break;
    events += page.length;
    after = page[page.length - 1]!.position;
  }
} else {
  events = (await replay(cli, { verify: false })).events;
}
const ms = performance.now() - started;
await cli.close();
console.log(JSON.stringify({ events, ms }));
