// The Experiments list's pure parts: URL state and which rows a live event touches (test/unit/dashboard/experiments-list.test.ts).

export type ExperimentStatus = 'RUNNING' | 'PAUSED' | 'DONE';
const STATUSES: readonly ExperimentStatus[] = ['RUNNING', 'PAUSED', 'DONE'];

/** `?status=RUNNING`: one status, or every status when absent or unknown. */
export function parseStatusFilter(value: string | null): ExperimentStatus | null {
  const upper = value?.toUpperCase() ?? '';
  return (STATUSES as readonly string[]).includes(upper) ? (upper as ExperimentStatus) : null;
}

/** The experiment an event of the `experiment` category belongs to: its stream is `experiment-<id>`. */
export function experimentOfStream(streamId: string): string | null {
  return streamId.startsWith('experiment-') && streamId.length > 'experiment-'.length
    ? streamId.slice('experiment-'.length)
    : null;
}

/** How far an experiment is toward `maxJobs`, 0..1; null when it has no bound (a PBT without maxGenerations, a manual search). */
export function progressToward(total: number, maxJobs: number | null): number | null {
  if (maxJobs === null || maxJobs <= 0) return null;
  return Math.min(1, total / maxJobs);
}

/**
 * What the list reads again for a batch of live events: the visible rows they touch, or the whole page
 * when an experiment was created and the page is the last one (new experiments come last).
 */
export function rowsToRefresh(
  events: readonly { experimentId: string | null; created: boolean }[],
  visible: ReadonlySet<string>,
  onLastPage: boolean,
): { page: boolean; ids: string[] } {
  const ids = new Set<string>();
  let page = false;
  for (const event of events) {
    if (event.created && onLastPage) page = true;
    if (event.experimentId !== null && visible.has(event.experimentId)) ids.add(event.experimentId);
  }
  return page ? { page: true, ids: [] } : { page: false, ids: [...ids] };
}
