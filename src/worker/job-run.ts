/**
 * One claimed job, run to its end: start the command, stream its output and
 * metrics, keep the lease alive, stop it when the server says so, and report
 * how it ended.
 *
 * Who decides the ending:
 * - the command, by its exit: 0 completes the job, anything else fails it
 *   (requeued while attempts remain);
 * - the server, by cancelling or pruning it, or by giving its lease to
 *   another worker: the command is stopped and nothing more is reported;
 * - the worker, shutting down before the command exited: the command is
 *   stopped and the job released.
 * The lease is kept alive (heartbeats) until the server has the ending.
 */
import { createHash } from 'node:crypto';
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import {
  TrialogApiError,
  hasCode,
  type ArtifactInput,
  type CallOptions,
  type JobClaim,
  type JobStatus,
  type JsonObject,
  type LogStream,
  type MetricPointInput,
  type TrialogClient,
} from '../client/client.js';
import type { Limits } from '../limits.js';
import { listArtifacts, readResult } from './artifacts.js';
import { startChild, type ChildExit, type RunningChild } from './child-process.js';
import { ensureOwnDirectory } from './contained-files.js';
import { UnusableHyperparameters, hyperparameterArgs, type HyperparameterArgsStyle } from './command-line.js';
import { MetricsFileTail, UnreadableMetricsFile } from './metrics-file.js';
import { parentCheckpoint } from './parent-checkpoint.js';
import { classifyLine, parseMetricJson, truncateLine } from './output-lines.js';
import { Outbox } from './outbox.js';

export interface JobRunSettings {
  command: string[];
  workDir: string;
  cwd: string;
  leaseSeconds: number;
  graceMs: number;
  hyperparameterArgs: HyperparameterArgsStyle | null;
  /** Real paths (links resolved) besides the work directory where a PBT parent's checkpoint may lie. */
  checkpointRoots: string[];
  /** The server's limits on what a job hands in (result, artifacts), checked before it is sent. */
  limits: OutputLimits;
  log: (message: string) => void;
  /** Which of the worker's slots runs the job (0 to slots − 1): TRIALOG_SLOT, to pin a GPU per slot. */
  slot?: number;
}

export type OutputLimits = Pick<Limits, 'resultBytes' | 'artifactsPerJob' | 'idLength'>;

/** A claim's directories, as made and (real*) with every link resolved. */
interface RunDirectories {
  run: string;
  output: string;
  metricsFile: string;
  realRun: string;
  realOutput: string;
  realWorkDir: string;
}

export type StopReason = 'CANCELLED' | 'PRUNED' | 'LEASE_LOST' | 'SHUTDOWN';

export type JobOutcome =
  | { ended: 'SUCCEEDED' }
  | { ended: 'FAILED'; requeued: boolean; error: string }
  | { ended: 'RELEASED' }
  /** The server ended it (cancelled, pruned) or gave it to another worker: nothing reported. */
  | { ended: 'BY_SERVER'; reason: StopReason; exit: string }
  /** The server refused every ending offered; the lease will expire and another worker retry it. */
  | { ended: 'UNREPORTED'; error: string }
  /** This machine could not run it (no room for its output directory): released, and the worker should stop. */
  | { ended: 'LOCAL_ERROR'; error: string };

const LOG_BATCH_LINES = 200;
const METRIC_BATCH_POINTS = 1000;
const FLUSH_INTERVAL_MS = 250;
/**
 * Under the server's 4 MiB per appendLog (and its body limit), with room for the JSON around the lines. A store
 * that takes less in one append (EventStoreDB: 1 MiB) refuses a batch as TOO_LARGE: it is split (outbox.ts).
 */
const MAX_BATCH_BYTES = 3 * 1024 * 1024;
/** Reports kept per job while the server is unreachable; past these the oldest are dropped (and counted). */
const MAX_PENDING_LOG_BYTES = 64 * 1024 * 1024;
const MAX_PENDING_METRIC_BYTES = 64 * 1024 * 1024;
const STDERR_TAIL_LINES = 30;
/** The server keeps 16 KiB of a failure's text: the tail is cut to fit, keeping its end (where the error is). */
const STDERR_TAIL_CHARS = 12 * 1024;
const MAX_URI_LENGTH = 4096;
/** Lines a job's log gets about what the worker skipped (links, FIFOs, parent artifacts); the rest are counted. */
const MAX_NOTICES = 20;

export class JobRun {
  readonly jobId: string;
  private readonly leaseToken: string;
  private stopReason: StopReason | null = null;
  private child: RunningChild | null = null;
  private childExited = false;
  private progress: number | null = null;
  private readonly stderrTail: string[] = [];
  private readonly logs: Outbox<{ stream: LogStream; text: string }>;
  private readonly metrics: Outbox<MetricPointInput>;
  /** Aborted when the job is no longer ours: pending retries give up. */
  private readonly abandon = new AbortController();
  /** Aborted by a forced shutdown: even the final report gives up. */
  private readonly forced = new AbortController();
  /** Either of the two; made once, since every report needs it. */
  private readonly reportSignal = anyOf(this.abandon.signal, this.forced.signal);

  constructor(
    private readonly client: TrialogClient,
    private readonly claim: JobClaim,
    private readonly settings: JobRunSettings,
  ) {
    this.jobId = claim.job.id;
    this.leaseToken = claim.leaseToken;
    const lease = { jobId: this.jobId, leaseToken: this.leaseToken };
    const reportCall: CallOptions = { signal: this.reportSignal, retry: { maxRetryTime: Number.POSITIVE_INFINITY } };
    this.logs = new Outbox({
      maxBatch: LOG_BATCH_LINES,
      maxBatchBytes: MAX_BATCH_BYTES,
      intervalMs: FLUSH_INTERVAL_MS,
      maxPendingBytes: MAX_PENDING_LOG_BYTES,
      sizeOf: (line) => Buffer.byteLength(line.text) + 8,
      batchKey: (line) => line.stream,
      send: async (batch, sequence) => {
        const dropped = this.logs.takeDroppedCount();
        const lines = batch.map((l) => l.text);
        if (dropped > 0)
          lines.unshift(`[trialog worker] ${dropped} lines dropped: the server was unreachable for too long`);
        await this.client.appendLog({ ...lease, lines, stream: batch[0]!.stream, sequence }, reportCall);
      },
      // A store with smaller appends than these batches (EventStoreDB, or TRIALOG_MAX_APPEND_BYTES): split, never lost.
      isTooLarge: (error) => hasCode(error, 'TOO_LARGE'),
      onError: (error) => this.onReportError('log lines', error),
    });
    this.metrics = new Outbox({
      maxBatch: METRIC_BATCH_POINTS,
      maxBatchBytes: MAX_BATCH_BYTES,
      intervalMs: FLUSH_INTERVAL_MS,
      maxPendingBytes: MAX_PENDING_METRIC_BYTES,
      sizeOf: (point) => point.name.length + 64,
      send: async (points, sequence) => {
        const { shouldStop } = await this.client.reportMetrics({ ...lease, points, sequence }, reportCall);
        if (shouldStop) this.stop('PRUNED');
      },
      isTooLarge: (error) => hasCode(error, 'TOO_LARGE'),
      onError: (error) => this.onReportError('metrics', error),
    });
  }

  /** Runs the command and reports its ending. Throws only when the server refuses the worker itself (key, rights). */
  async run(): Promise<JobOutcome> {
    const heartbeat = setInterval(() => void this.heartbeat(), (this.settings.leaseSeconds * 1000) / 3);
    try {
      const dirs = await this.prepareDirectories().catch((error: unknown) => error as Error);
      if (dirs instanceof Error) return await this.giveBack(dirs);
      // Stopped before the command started (a shutdown or a cancel racing the claim): do not start it.
      if (this.stopReason === 'SHUTDOWN') return await this.release('worker shutting down', null);
      if (this.stopReason) return { ended: 'BY_SERVER', reason: this.stopReason, exit: 'the command was not started' };
      // No command to run (a pool worker's job whose experiment carries none): it would not run the next time either.
      if (this.settings.command.length === 0) {
        return await this.fail(
          'no command to run: the job carries none (params.command) and the worker was given none',
          false,
          null,
        );
      }
      const args = this.commandArgs();
      // Hyperparameters that cannot be arguments: the command does not run, and would not the next time either.
      if (args instanceof UnusableHyperparameters) return await this.fail(args.message, false, null);
      const exit = await this.runCommand(dirs, args);
      return await this.finish(exit, dirs);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The server (or the worker) wants the command stopped. The first reason given is the one that counts. */
  stop(reason: StopReason): void {
    // The command has exited: its ending is decided, and a shutdown must not throw it away.
    if (reason === 'SHUTDOWN' && this.childExited) return;
    this.stopReason ??= reason;
    if (reason !== 'SHUTDOWN') {
      // Not ours any more: what is pending cannot be reported.
      this.abandon.abort();
      this.logs.stop();
      this.metrics.stop();
    }
    this.child?.terminate(this.settings.graceMs);
  }

  /** A second Ctrl-C: kill the command now and give up on retries. */
  forceStop(): void {
    if (!this.childExited) this.stopReason ??= 'SHUTDOWN';
    this.forced.abort();
    this.child?.kill();
  }

  /** Called when the worker learns (over its subscription) that this job's status changed. */
  onStatusChanged(to: JobStatus): void {
    if (to === 'CANCELLED' || to === 'PRUNED') this.stop(to);
  }

  /** Sends a heartbeat now; it says whether the job was cancelled. */
  async heartbeat(): Promise<void> {
    // One at a time: a beat still retrying (server away) is not joined by more.
    if (this.abandon.signal.aborted || this.beating) return;
    this.beating = true;
    try {
      const lease = await this.client.heartbeat(
        { jobId: this.jobId, leaseToken: this.leaseToken, ...(this.progress !== null && { progress: this.progress }) },
        // Retrying longer than a beat would only pile up calls: the next beat tries again.
        { signal: this.reportSignal, retry: { maxRetryTime: (this.settings.leaseSeconds * 1000) / 3 } },
      );
      if (lease.cancelRequested) this.stop('CANCELLED');
    } catch (error) {
      if (hasCode(error, 'LEASE_LOST')) this.stop('LEASE_LOST');
      else if (!this.reportSignal.aborted)
        this.settings.log(`job ${this.jobId}: heartbeat failed: ${(error as Error).message}`);
    } finally {
      this.beating = false;
    }
  }

  private beating = false;

  /** A directory per claim (a job released, retried or retrained runs again beside its earlier outputs, which stay). */
  private async prepareDirectories(): Promise<RunDirectories> {
    const claimId = createHash('sha256').update(this.leaseToken).digest('hex').slice(0, 8);
    const run = join(this.settings.workDir, this.jobId, `attempt-${this.claim.job.attempts}-${claimId}`);
    const output = join(run, 'output');
    await mkdir(this.settings.workDir, { recursive: true });
    // One level at a time, each checked before anything is made in it: nothing is made through a planted link.
    for (const dir of [join(this.settings.workDir, this.jobId), run, output]) {
      await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await ensureOwnDirectory(dir);
    }
    // Resolved now, before the command runs: what it does to these paths later cannot move them.
    const [realRun, realOutput, realWorkDir] = await Promise.all([
      realpath(run),
      realpath(output),
      realpath(this.settings.workDir),
    ]);
    return { run, output, metricsFile: join(run, 'metrics.jsonl'), realRun, realOutput, realWorkDir };
  }

  private async runCommand(dirs: RunDirectories, args: string[]): Promise<ChildExit> {
    const tail = new MetricsFileTail(dirs.metricsFile, dirs.realRun);
    const env = await this.environment(dirs);
    const tailing = setInterval(() => {
      if (!tail.busy) void this.readMetricsFile(tail, false);
    }, FLUSH_INTERVAL_MS);
    try {
      this.child = startChild([...this.settings.command, ...args], {
        cwd: this.settings.cwd,
        env,
        onStdout: (line) => this.onOutput('STDOUT', line),
        onStderr: (line) => this.onOutput('STDERR', line),
        // From here a shutdown must not undo the ending (even while the last output drains).
        onExit: () => (this.childExited = true),
      });
      // A stop that came before the command started (a cancel racing the claim) applies now.
      if (this.stopReason) this.child.terminate(this.settings.graceMs);
      if (this.forced.signal.aborted) this.child.kill();
      const exit = await this.child.exited;
      this.childExited = true; // also when it never started
      return exit;
    } finally {
      clearInterval(tailing);
      await this.readMetricsFile(tail, true);
    }
  }

  private async finish(exit: ChildExit, dirs: RunDirectories): Promise<JobOutcome> {
    // Everything the command said is reported before its ending is.
    await Promise.all([this.logs.drain(), this.metrics.drain()]);
    if (this.stopReason && this.stopReason !== 'SHUTDOWN')
      return { ended: 'BY_SERVER', reason: this.stopReason, exit: describeExit(exit) };
    if (this.stopReason === 'SHUTDOWN') return this.release('worker shutting down', exit);
    if (exit.code === 0) return this.complete(dirs, exit);
    return this.fail(this.failureText(exit), true, exit);
  }

  private async complete(dirs: RunDirectories, exit: ChildExit): Promise<JobOutcome> {
    let result: JsonObject | null;
    let artifacts: ArtifactInput[];
    try {
      result = await readResult(dirs.output, dirs.realOutput, this.settings.limits.resultBytes);
      artifacts = await this.artifactsOf(dirs);
    } catch (error) {
      // The command said it succeeded but left no usable result: a failure of the run, retried like one.
      return this.fail(`the command exited 0 but ${(error as Error).message}`, true, exit);
    }
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    if (resultBytes > this.settings.limits.resultBytes) {
      return this.fail(
        `the command exited 0 but result.json is ${resultBytes} bytes; the server takes at most ${this.settings.limits.resultBytes}`,
        false,
        exit,
      );
    }
    return this.end(exit, ['SUCCEEDED'], async (call) => {
      await this.client.completeJob({ jobId: this.jobId, leaseToken: this.leaseToken, result, artifacts }, call);
      return { ended: 'SUCCEEDED' };
    });
  }

  private fail(error: string, retry: boolean, exit: ChildExit | null): Promise<JobOutcome> {
    return this.end(exit, ['FAILED', 'QUEUED'], async (call) => {
      const job = await this.client.failJob({ jobId: this.jobId, leaseToken: this.leaseToken, error, retry }, call);
      return { ended: 'FAILED', requeued: job.status === 'QUEUED', error };
    });
  }

  private release(reason: string, exit: ChildExit | null): Promise<JobOutcome> {
    return this.end(exit, ['QUEUED'], async (call) => {
      await this.client.releaseJob({ jobId: this.jobId, leaseToken: this.leaseToken, reason }, call);
      return { ended: 'RELEASED' };
    });
  }

  /** The output directory could not be made: hand the job back untouched, and tell the worker to stop. */
  private async giveBack(error: Error): Promise<JobOutcome> {
    const message = `cannot prepare the job's output directory: ${error.message}`;
    this.settings.log(`job ${this.jobId}: ${message}`);
    await this.release(`worker cannot run it: ${message}`, null);
    return { ended: 'LOCAL_ERROR', error: message };
  }

  /**
   * Sends an ending and reads the answer. It retries until the server is
   * back; a refusal of the ending's content becomes a failure that says why;
   * LEASE_LOST after a resend means the first send may have landed, so the
   * job's status decides.
   */
  private async end(
    exit: ChildExit | null,
    landedAs: JobStatus[],
    send: (call: CallOptions) => Promise<JobOutcome>,
  ): Promise<JobOutcome> {
    let resent = false;
    const call: CallOptions = {
      signal: this.forced.signal,
      retry: { maxRetryTime: Number.POSITIVE_INFINITY, onRetry: () => void (resent = true) },
    };
    try {
      return await send(call);
    } catch (error) {
      if (!(error instanceof TrialogApiError)) throw error;
      if (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN') throw error;
      if (error.code === 'LEASE_LOST' || error.code === 'CONFLICT') {
        if (resent && (await this.statusIsOneOf(landedAs))) return this.landed(landedAs);
        return { ended: 'BY_SERVER', reason: 'LEASE_LOST', exit: exit ? describeExit(exit) : 'not started' };
      }
      // The ending itself was refused (too large, invalid, a server fault): say so in a failure instead.
      if (landedAs.includes('SUCCEEDED')) {
        return this.fail(
          `the command exited 0 but the server refused its result: ${error.message}`,
          error.code === 'INTERNAL_SERVER_ERROR',
          exit,
        );
      }
      this.settings.log(`job ${this.jobId}: the server refused its ending: ${error.message}`);
      return { ended: 'UNREPORTED', error: error.message };
    }
  }

  private landed(landedAs: JobStatus[]): JobOutcome {
    if (landedAs.includes('SUCCEEDED')) return { ended: 'SUCCEEDED' };
    if (landedAs.includes('FAILED'))
      return { ended: 'FAILED', requeued: false, error: 'reported before the connection dropped' };
    return { ended: 'RELEASED' };
  }

  private async statusIsOneOf(statuses: JobStatus[]): Promise<boolean> {
    try {
      const job = await this.client.job(this.jobId, {
        signal: this.forced.signal,
        retry: { maxRetryTime: Number.POSITIVE_INFINITY },
      });
      return job !== null && statuses.includes(job.status);
    } catch {
      return false;
    }
  }

  private async artifactsOf(dirs: RunDirectories): Promise<ArtifactInput[]> {
    const { limits } = this.settings;
    const { artifacts, omitted, skipped } = await listArtifacts(dirs.output, dirs.realOutput, limits.artifactsPerJob);
    const fitting = artifacts.filter((a) => a.name.length <= limits.idLength && a.uri.length <= MAX_URI_LENGTH);
    const unlisted = omitted + artifacts.length - fitting.length;
    const notices = skipped.map((what) => `skipped ${what}`);
    if (unlisted > 0) {
      notices.push(
        `${unlisted} output file(s) not listed as artifacts (at most ${limits.artifactsPerJob}, names up to ${limits.idLength} characters)`,
      );
    }
    if (notices.length > 0) {
      this.settings.log(
        `job ${this.jobId}: ${notices.length} output(s) not listed as artifacts (the job's log says which)`,
      );
      this.notify(notices);
      await this.logs.drain();
    }
    return fitting;
  }

  /** Says in the job's log (stderr) what the worker left out, a line each, at most MAX_NOTICES and a count of the rest. */
  private notify(notices: string[]): void {
    for (const notice of notices.slice(0, MAX_NOTICES)) this.pushLog('STDERR', `[trialog worker] ${notice}`);
    if (notices.length > MAX_NOTICES)
      this.pushLog('STDERR', `[trialog worker] and ${notices.length - MAX_NOTICES} more`);
  }

  private failureText(exit: ChildExit): string {
    const how = describeExit(exit);
    if (this.stderrTail.length === 0) return how;
    const tail = this.stderrTail.join('\n');
    const kept = tail.length > STDERR_TAIL_CHARS ? `…${tail.slice(-STDERR_TAIL_CHARS)}` : tail;
    return `${how}\n--- last lines of stderr ---\n${kept}`;
  }

  private onOutput(stream: LogStream, raw: string): void {
    const line = classifyLine(raw);
    switch (line.kind) {
      case 'metrics':
        for (const point of line.points) this.metrics.push(point);
        return;
      case 'progress':
        this.progress = line.value;
        return;
      case 'invalid':
        this.pushLog(stream, `${line.text}  [trialog worker: not reported: ${line.reason}]`);
        return;
      case 'log':
        if (stream === 'STDERR') {
          this.stderrTail.push(line.text);
          if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        }
        this.pushLog(stream, line.text);
    }
  }

  /** Every log line goes through here: cut to what the server accepts. */
  private pushLog(stream: LogStream, text: string): void {
    this.logs.push({ stream, text: truncateLine(text) });
  }

  private async readMetricsFile(tail: MetricsFileTail, final: boolean): Promise<void> {
    let lines: string[];
    try {
      lines = await tail.readNewLines({ final });
    } catch (error) {
      if (error instanceof UnreadableMetricsFile) {
        // Said once in the job's log; it is looked at again each tick (the command may put a file there).
        if (!this.metricsFileRefused) this.notify([`the metrics file is not read: it is ${error.message}`]);
        this.metricsFileRefused = true;
        return;
      }
      this.settings.log(`job ${this.jobId}: cannot read the metrics file: ${(error as Error).message}`);
      return;
    }
    for (const text of lines) {
      const parsed = parseMetricJson(text);
      if ('points' in parsed) for (const point of parsed.points) this.metrics.push(point);
      else this.pushLog('STDERR', `[trialog worker] metrics file line not reported (${parsed.error}): ${text}`);
    }
  }

  private metricsFileRefused = false;

  private onReportError(what: string, error: unknown): 'continue' | 'stop' {
    if (this.reportSignal.aborted) return 'stop';
    if (hasCode(error, 'LEASE_LOST')) {
      this.stop('LEASE_LOST');
      return 'stop';
    }
    // Refused for its content (too large, invalid): drop that batch, keep reporting the rest.
    this.settings.log(`job ${this.jobId}: ${what} not reported: ${(error as Error).message}`);
    return 'continue';
  }

  /** The hyperparameters as arguments (what is left out is said in the job's log), or why they cannot be. */
  private commandArgs(): string[] | UnusableHyperparameters {
    const style = this.settings.hyperparameterArgs;
    if (!style) return [];
    try {
      const { args, notPassed } = hyperparameterArgs(this.claim.job.hyperparameters, style, this.settings.command);
      this.notify(notPassed);
      return args;
    } catch (error) {
      if (error instanceof UnusableHyperparameters) return error;
      throw error;
    }
  }

  private async environment(dirs: RunDirectories): Promise<NodeJS.ProcessEnv> {
    const { job } = this.claim;
    const parent = await parentCheckpoint(job.parent?.artifacts ?? [], [
      dirs.realWorkDir,
      ...this.settings.checkpointRoots,
    ]);
    this.notify(parent.notPassed);
    return {
      ...process.env,
      TRIALOG_JOB_ID: job.id,
      TRIALOG_EXPERIMENT_ID: job.experiment?.id ?? '',
      TRIALOG_ATTEMPT: String(job.attempts),
      TRIALOG_SLOT: String(this.settings.slot ?? 0),
      TRIALOG_HPARAMS: JSON.stringify(job.hyperparameters),
      TRIALOG_PARAMS: JSON.stringify(job.params),
      TRIALOG_OUTPUT_DIR: dirs.output,
      TRIALOG_METRICS_FILE: dirs.metricsFile,
      TRIALOG_CHECKPOINT_FROM: parent.checkpointFrom,
      TRIALOG_PARENT_ARTIFACTS: JSON.stringify(parent.artifacts),
    };
  }
}

function describeExit(exit: ChildExit): string {
  if (exit.spawnError) return `the command could not start: ${exit.spawnError.message}`;
  return exit.signal ? `the command was killed by ${exit.signal}` : `the command exited with code ${exit.code}`;
}

/** Aborted when either is; made once per job (AbortSignal.any per call leaks a little on Node 20). */
function anyOf(a: AbortSignal, b: AbortSignal): AbortSignal {
  const both = new AbortController();
  const abort = () => both.abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return both.signal;
}
