/** The workers view's arithmetic: running jobs grouped by worker, and lease countdowns. */
export interface RunningJob {
  id: string;
  workerId: string | null;
  createdAt: string;
}

export interface WorkerGroup<T> {
  workerId: string;
  jobs: T[];
}

/** One group per worker, workers by id; a running job without a worker (never expected) under "—". */
export function groupByWorker<T extends RunningJob>(jobs: readonly T[]): WorkerGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const job of jobs) {
    const worker = job.workerId ?? '—';
    let list = groups.get(worker);
    if (!list) groups.set(worker, (list = []));
    list.push(job);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([workerId, list]) => ({ workerId, jobs: list }));
}

/** Whole seconds until the lease expires (negative once expired); null without a lease. */
export function leaseSecondsLeft(leaseExpiresAt: string | null, nowMs: number): number | null {
  if (!leaseExpiresAt) return null;
  const expires = Date.parse(leaseExpiresAt);
  if (Number.isNaN(expires)) return null;
  return Math.floor((expires - nowMs) / 1000);
}

/** "1:05", "0:09", "expired 12s ago", "—". */
export function formatCountdown(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 0) return `expired ${formatDuration(-seconds)} ago`;
  return formatDuration(seconds);
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** A progress bar's width: 0..100, a reported value outside 0..1 clamped, none as null. */
export function progressPercent(progress: number | null | undefined): number | null {
  if (progress === null || progress === undefined || !Number.isFinite(progress)) return null;
  return Math.round(Math.min(1, Math.max(0, progress)) * 1000) / 10;
}
