/**
 * `trialog worker`: N slots, each claiming a job, running it, and claiming
 * the next. One subscription to status changes wakes idle slots when a job is
 * queued and stops running jobs the moment they are cancelled; heartbeats
 * catch whatever the subscription missed while disconnected.
 *
 * Shutting down (SIGINT or SIGTERM): no more claims; running commands get
 * SIGTERM and their jobs are released, or with `drain`, finish first. A
 * second signal kills the commands at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TrialogApiError, type JobStatus, type TrialogClient } from '../client/client.js';
import type { HyperparameterArgsStyle } from './command-line.js';
import { JobRun, type JobOutcome, type OutputLimits } from './job-run.js';

export interface WorkerSettings {
  command: string[];
  workerId: string;
  experimentId?: string;
  labels?: string[];
  algorithmIds?: string[];
  slots: number;
  leaseSeconds: number;
  graceMs: number;
  workDir: string;
  cwd: string;
  hyperparameterArgs: HyperparameterArgsStyle | null;
  /** Real paths besides the work directory where a PBT parent's checkpoint may lie (--checkpoint-root). */
  checkpointRoots: string[];
  /** How long an idle slot waits before asking again when no notification came. */
  pollMs: number;
  /** Stop after this many jobs have ended (all slots together). */
  maxJobs?: number;
  /** Stop once no job could be claimed for this long. */
  idleExitMs?: number;
  /** On the first signal, let running jobs finish instead of releasing them. */
  drain: boolean;
  /** The server's limits on what a job hands in (result, artifacts), checked before it is sent. */
  limits: OutputLimits;
  log: (message: string) => void;
}

/** A job's `params.command` when it is a command line (strings, at least one); else none. */
export function commandOf(params: unknown): string[] {
  const command = (params as { command?: unknown } | null)?.command;
  return Array.isArray(command) && command.length > 0 && command.every((w) => typeof w === 'string') ? command : [];
}

export interface WorkerSummary {
  succeeded: number;
  failed: number;
  released: number;
  endedByServer: number;
  /** Jobs whose ending the server refused (they run again once their lease expires). */
  unreported: number;
  /** Why the worker stopped. */
  stoppedBecause: 'signal' | 'max-jobs' | 'idle' | 'experiment-done' | 'forced' | 'fatal';
  fatal?: Error;
}

export const defaultWorkerId = () => `${hostname()}-${process.pid}`;

export class Worker {
  private readonly runs = new Map<string, JobRun>();
  private readonly stopping = new AbortController();
  /** A signal came: the next one forces. (Not the same as stopping, which a fatal error also causes.) */
  private signalled = false;
  private forced = false;
  private jobsEnded = 0;
  private jobsStarted = 0;
  private lastBusyAt = Date.now();
  private wakeIdle: (() => void)[] = [];
  /** What its claims ask for: one experiment, every experiment that carries its command, or jobs outside experiments. */
  private get serving(): 'experiment' | 'pool' | 'jobs' {
    if (this.settings.experimentId) return 'experiment';
    return this.settings.command.length === 0 ? 'pool' : 'jobs';
  }
  private readonly summary: WorkerSummary = {
    succeeded: 0,
    failed: 0,
    released: 0,
    endedByServer: 0,
    unreported: 0,
    stoppedBecause: 'signal',
  };

  constructor(
    private readonly client: TrialogClient,
    private readonly settings: WorkerSettings,
  ) {}

  async run(): Promise<WorkerSummary> {
    const watching = this.watchStatusChanges();
    try {
      await Promise.all(Array.from({ length: this.settings.slots }, (_, slot) => this.slot(slot)));
    } finally {
      this.stopping.abort();
      await watching;
      await this.client.close();
    }
    return this.summary;
  }

  /** The first call stops claiming and stops (or, with drain, awaits) running jobs; the second kills them. */
  shutdown(): void {
    if (this.signalled) {
      this.forced = true;
      this.summary.stoppedBecause = 'forced';
      for (const run of this.runs.values()) run.forceStop();
      return;
    }
    this.signalled = true;
    this.stopWith('signal');
    if (!this.settings.drain) for (const run of this.runs.values()) run.stop('SHUTDOWN');
  }

  get runningJobIds(): string[] {
    return [...this.runs.keys()];
  }

  private stopWith(reason: WorkerSummary['stoppedBecause'], fatal?: Error): void {
    if (this.stopping.signal.aborted) return;
    this.summary.stoppedBecause = reason;
    if (fatal) this.summary.fatal = fatal;
    this.stopping.abort();
    for (const wake of this.wakeIdle.splice(0)) wake();
  }

  private async slot(slot: number): Promise<void> {
    while (!this.stopping.signal.aborted) {
      if (this.settings.maxJobs !== undefined && this.jobsStarted >= this.settings.maxJobs) return;
      let claim;
      try {
        claim = await this.client.claimJob(
          {
            workerId: this.settings.workerId,
            experimentId: this.settings.experimentId,
            // No experiment and no command: a pool over every running experiment that carries its command.
            ...(this.serving === 'pool' ? { anyExperiment: true, withCommand: true } : {}),
            labels: this.settings.labels,
            algorithmIds: this.settings.algorithmIds,
            leaseSeconds: this.settings.leaseSeconds,
            // Our own token makes the claim safe to resend: a resend after a lost answer gets the same job.
            leaseToken: randomBytes(32).toString('base64url'),
          },
          {
            // A claim in flight is never cut off (the server may have made it: its answer must be read,
            // and the job released if we are stopping); only the retries stop.
            stopRetrying: this.stopping.signal,
            retry: {
              maxRetryTime: Number.POSITIVE_INFINITY,
              onRetry: (error, attempt) => {
                if (attempt === 1 || attempt % 10 === 0) this.settings.log(`slot ${slot}: ${error.message}; retrying`);
              },
            },
          },
        );
      } catch (error) {
        if (this.stopping.signal.aborted && !(error instanceof TrialogApiError)) return;
        // A refusal (no key, no right, bad input) will not change by asking again.
        this.settings.log(`cannot claim: ${(error as Error).message}`);
        this.stopWith('fatal', error as Error);
        return;
      }
      if (!claim) {
        if (await this.finishedIdle()) return;
        await this.idle();
        continue;
      }
      this.jobsStarted++;
      await this.runJob(claim, slot);
    }
  }

  private async runJob(
    claim: NonNullable<Awaited<ReturnType<TrialogClient['claimJob']>>>,
    slot: number,
  ): Promise<void> {
    const { job } = claim;
    // The worker's own command, or (serving a pool) the one the job's experiment gave it.
    const command = this.settings.command.length > 0 ? this.settings.command : commandOf(job.params);
    const run = new JobRun(this.client, claim, { ...this.settings, command, slot });
    this.runs.set(job.id, run);
    this.lastBusyAt = Date.now();
    this.settings.log(
      `job ${job.id}: claimed (attempt ${job.attempts} of ${job.maxAttempts}) ${JSON.stringify(job.hyperparameters)}`,
    );
    // Shutting down already (a signal during the claim): the job goes straight back.
    if (this.stopping.signal.aborted && !this.settings.drain) run.stop('SHUTDOWN');
    if (this.forced) run.forceStop();
    let outcome: JobOutcome;
    try {
      outcome = await run.run();
    } catch (error) {
      this.settings.log(`job ${job.id}: could not report its ending: ${(error as Error).message}`);
      outcome = { ended: 'BY_SERVER', reason: 'LEASE_LOST', exit: 'its ending was not reported' };
      if (error instanceof TrialogApiError) this.stopWith('fatal', error);
    } finally {
      this.runs.delete(job.id);
      this.lastBusyAt = Date.now();
    }
    this.jobsEnded++;
    this.record(job.id, outcome);
    // A job's end may have finished the experiment or freed a concurrency slot: idle slots look again.
    for (const wake of this.wakeIdle.splice(0)) wake();
  }

  private record(jobId: string, outcome: JobOutcome): void {
    switch (outcome.ended) {
      case 'SUCCEEDED':
        this.summary.succeeded++;
        this.settings.log(`job ${jobId}: succeeded`);
        break;
      case 'FAILED':
        this.summary.failed++;
        this.settings.log(
          `job ${jobId}: failed${outcome.requeued ? ' (queued again)' : ''}: ${outcome.error.split('\n')[0]}`,
        );
        break;
      case 'RELEASED':
        this.summary.released++;
        this.settings.log(`job ${jobId}: released`);
        break;
      case 'UNREPORTED':
        this.summary.unreported++;
        this.settings.log(
          `job ${jobId}: its ending was refused (${outcome.error}); its lease will expire and it will run again`,
        );
        break;
      case 'LOCAL_ERROR':
        this.summary.released++;
        this.stopWith('fatal', new Error(outcome.error));
        break;
      case 'BY_SERVER':
        this.summary.endedByServer++;
        this.settings.log(`job ${jobId}: stopped (${outcome.reason.toLowerCase().replace('_', ' ')}); ${outcome.exit}`);
    }
    if (this.settings.maxJobs !== undefined && this.jobsEnded >= this.settings.maxJobs && this.runs.size === 0) {
      this.stopWith('max-jobs');
    }
  }

  /** True when the worker should stop rather than wait: idle too long, or its experiment is over. */
  private async finishedIdle(): Promise<boolean> {
    if (this.settings.experimentId) {
      try {
        const experiment = await this.client.experiment({ id: this.settings.experimentId }, 0, {
          signal: this.stopping.signal,
        });
        if (experiment?.status === 'DONE' && this.runs.size === 0) {
          this.stopWith('experiment-done');
          return true;
        }
      } catch {
        // Unreachable: the next claim retries and says so.
      }
    }
    if (
      this.settings.idleExitMs !== undefined &&
      this.runs.size === 0 &&
      Date.now() - this.lastBusyAt >= this.settings.idleExitMs
    ) {
      this.stopWith('idle');
      return true;
    }
    return false;
  }

  /** Waits for a queued job to be announced, the poll interval, or the shutdown. */
  private idle(): Promise<void> {
    // Stopped while this slot was asking: the wake-up has been sent already.
    if (this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeIdle = this.wakeIdle.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, this.settings.pollMs);
      this.wakeIdle.push(done);
    });
  }

  private async watchStatusChanges(): Promise<void> {
    const statuses: JobStatus[] = ['QUEUED', 'CANCELLED', 'PRUNED'];
    try {
      const changes = this.client.statusChanges(
        { experimentId: this.settings.experimentId, status: statuses },
        {
          signal: this.stopping.signal,
          // Back after a disconnection: a cancel may have been missed, and the heartbeat says.
          onResubscribe: () => {
            for (const run of this.runs.values()) void run.heartbeat();
          },
        },
      );
      for await (const change of changes) {
        if (change.to === 'QUEUED') for (const wake of this.wakeIdle.splice(0)) wake();
        else this.runs.get(change.job.id)?.onStatusChanged(change.to);
      }
    } catch (error) {
      if (!this.stopping.signal.aborted) {
        this.settings.log(`no live status changes (${(error as Error).message}); heartbeats will carry cancellations`);
      }
    }
  }
}
