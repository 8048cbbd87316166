/** `trialog logs <job id> [-f]`: a job's log, whole, or followed live until the job ends. */
import type { CallOptions, JobStatus, LogLine, LogStream, TrialogClient } from '../../client/client.js';
import type { ConnectionValues } from '../commands/connection-options.js';
import { EXIT, EXIT_FOR_FINAL_STATUS } from '../exit-codes.js';
import { LIVE_RETRY, interruptible, liveLoop } from './live.js';
import {
  FINAL_STATUSES,
  parseChoice,
  parseInteger,
  printJson,
  printJsonLine,
  say,
  subject,
  withClient,
} from './shared.js';

interface LogsValues extends ConnectionValues {
  follow?: boolean;
  after?: string;
  stream?: string;
}

/** The server's largest page: the fewest round trips through a long log. */
const PAGE_SIZE = 1000;
/** How long following may be quiet before a query checks the job's status and log. */
const QUIET_MS = 1000;

export async function logsCommand(jobIdText: string, values: LogsValues): Promise<number> {
  const jobId = subject(jobIdText, 'job id', 'trialog logs <job id>');
  const after =
    values.after === undefined ? -1 : parseInteger('--after', values.after, { min: 0, max: Number.MAX_SAFE_INTEGER });
  const stream =
    values.stream === undefined ? undefined : parseChoice('--stream', values.stream, ['STDOUT', 'STDERR'] as const);
  return withClient(values, async (client) => {
    if (values.follow) {
      const printer = new LogPrinter(after, stream, values.json ? printJsonLine : (line) => say(line.text));
      const status = await followLog(client, jobId, printer);
      if (status === 'interrupted') return EXIT.INTERRUPTED;
      reportFinalStatus(jobId, status, values.json === true);
      return EXIT_FOR_FINAL_STATUS[status];
    }
    const collected: LogLine[] = [];
    const printer = new LogPrinter(
      after,
      stream,
      values.json ? (line) => collected.push(line) : (line) => say(line.text),
    );
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
async function readPages(
  client: TrialogClient,
  jobId: string,
  printer: LogPrinter,
  call?: CallOptions,
): Promise<JobStatus> {
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
type FinalStatus = keyof typeof EXIT_FOR_FINAL_STATUS;

const isFinal = (status: JobStatus): status is FinalStatus => FINAL_STATUSES.has(status);

/**
 * The log so far, then live lines until the job has ended; answers how it
 * ended. The end is decided by a page query in a quiet moment: a job's lines
 * are all recorded before it ends, and the query reads the status before the
 * lines, so a job seen ended has every line in that read, also those the
 * subscription had not delivered yet.
 */
async function followLog(
  client: TrialogClient,
  jobId: string,
  printer: LogPrinter,
): Promise<FinalStatus | 'interrupted'> {
  let final: FinalStatus | undefined;
  const code = await interruptible(async (signal) => {
    const status = await readPages(client, jobId, printer, { signal });
    if (isFinal(status)) {
      final = status;
      return EXIT.OK;
    }
    await liveLoop({
      signal,
      // A batch at a time: one message per append of the job's, not one per line.
      subscribe: (stop) => client.followLogBatches(jobId, printer.last, { signal: stop }),
      onItem: (batch) => {
        for (const line of batch) printer.print(line);
        return 'go on';
      },
      onQuiet: async (stop) => {
        const latest = await readPages(client, jobId, printer, { signal: stop, retry: LIVE_RETRY });
        if (!isFinal(latest)) return 'go on';
        final = latest;
        return 'done';
      },
      quietMs: QUIET_MS,
    });
    return EXIT.OK;
  });
  return code === EXIT.INTERRUPTED || final === undefined ? 'interrupted' : final;
}

/**
 * How the job ended, after its last line: on stderr for people (stdout stays
 * the job's log alone, for a pipe), as the last NDJSON object with --json.
 */
function reportFinalStatus(jobId: string, status: FinalStatus, json: boolean): void {
  if (json) printJsonLine({ jobId, status });
  else console.error(`job ${jobId} ${status}`);
}
