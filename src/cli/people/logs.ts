/** `trialog logs <job id> [-f]`: a job's log, whole, or followed live until the job ends. */
import { parseArgs } from 'node:util';
import type { CallOptions, JobStatus, LogLine, LogStream, TrialogClient } from '../../client/client.js';
import { EXIT } from '../exit-codes.js';
import { LIVE_RETRY, interruptible, liveLoop } from './live.js';
import {
  EXIT_CODES_HELP,
  FINAL_STATUSES,
  onlyPositional,
  parseChoice,
  parseInteger,
  PEOPLE_OPTIONS_HELP,
  peopleOptions,
  printJson,
  printJsonLine,
  say,
  withClient,
} from './shared.js';

export const LOGS_HELP = `usage: trialog logs <job id> [-f] [--after OFFSET] [--stream stdout|stderr]

Prints a job's log, each line's text as the job wrote it (its control characters shown as
escapes such as \\x1b unless --raw). Lines the job wrote to
stderr are printed as they are, on standard output, in the order they were written
among the stdout lines: use --stream to pick one stream, --json to see which
stream each line came from.

  -f, --follow     then print new lines as the job writes them, until the job has
                   ended (succeeded, failed, cancelled or pruned); exits 0 then
  --after OFFSET   only the lines after this offset (lines are numbered from 0)
  --stream S       only the lines of one stream: stdout or stderr
  --json           a JSON array of {offset, stream, text, timestamp}; with -f one
                   such object per line (NDJSON), printed as the lines come

${PEOPLE_OPTIONS_HELP}

examples:
  trialog logs job_3f2a9c            the whole log so far
  trialog logs job_3f2a9c -f         and follow it until the job ends
  trialog logs job_3f2a9c --after 1200 --stream stderr

${EXIT_CODES_HELP}, 130 interrupted (Ctrl-C while following)`;

/** The server's largest page: the fewest round trips through a long log. */
const PAGE_SIZE = 1000;
/** How long following may be quiet before a query checks the job's status and log. */
const QUIET_MS = 1000;

export async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...peopleOptions,
      follow: { type: 'boolean', short: 'f' },
      after: { type: 'string' },
      stream: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(LOGS_HELP);
    return EXIT.OK;
  }
  const jobId = onlyPositional(positionals, 'job id', 'trialog logs <job id>');
  const after = values.after === undefined ? -1 : parseInteger('--after', values.after, { min: 0, max: Number.MAX_SAFE_INTEGER });
  const stream = values.stream === undefined ? undefined : parseChoice('--stream', values.stream, ['STDOUT', 'STDERR'] as const);
  return withClient(values, async (client) => {
    if (values.follow) {
      const printer = new LogPrinter(after, stream, values.json ? printJsonLine : (line) => say(line.text));
      return followLog(client, jobId, printer);
    }
    const collected: LogLine[] = [];
    const printer = new LogPrinter(after, stream, values.json ? (line) => collected.push(line) : (line) => say(line.text));
    await readPages(client, jobId, printer);
    if (values.json) printJson(collected);
    return EXIT.OK;
  });
}

/** Shows each line once and in order, whether a page or the subscription brought it. */
class LogPrinter {
  constructor(
    /** The offset of the last line seen (shown or filtered out). */
    public last: number,
    private readonly stream: LogStream | undefined,
    private readonly show: (line: LogLine) => void,
  ) {}

  print(line: LogLine): void {
    if (line.offset <= this.last) return;
    this.last = line.offset;
    if (this.stream === undefined || line.stream === this.stream) this.show(line);
  }
}

/** Prints the log after the printer's last line, page by page; answers the job's status as of the last page. */
async function readPages(client: TrialogClient, jobId: string, printer: LogPrinter, call?: CallOptions): Promise<JobStatus> {
  for (;;) {
    const after = printer.last >= 0 ? String(printer.last) : undefined;
    const { status, logs } = await client.jobLogs(jobId, { first: PAGE_SIZE, after }, call);
    for (const { node } of logs.edges) printer.print(node);
    if (!logs.pageInfo.hasNextPage) return status;
  }
}

/**
 * The log so far, then live lines until the job has ended. The end is
 * decided by a page query in a quiet moment: a job's lines are all recorded
 * before it ends, and the query reads the status before the lines, so a job
 * seen ended has every line in that read, also those the subscription had
 * not delivered yet.
 */
function followLog(client: TrialogClient, jobId: string, printer: LogPrinter): Promise<number> {
  return interruptible(async (signal) => {
    const status = await readPages(client, jobId, printer, { signal });
    if (FINAL_STATUSES.has(status)) return EXIT.OK;
    await liveLoop({
      signal,
      subscribe: (stop) => client.followLogs(jobId, printer.last, { signal: stop }),
      onItem: (line) => {
        printer.print(line);
        return 'go on';
      },
      onQuiet: async (stop) => {
        const latest = await readPages(client, jobId, printer, { signal: stop, retry: LIVE_RETRY });
        return FINAL_STATUSES.has(latest) ? 'done' : 'go on';
      },
      quietMs: QUIET_MS,
    });
    return EXIT.OK;
  });
}
