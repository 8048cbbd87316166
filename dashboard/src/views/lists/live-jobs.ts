import { signal, type Signal } from '@preact/signals';
import { frameQueue } from '../../lib/frame';
import { live } from '../../lib/graphql';
import { mergeRows } from '../../logic/row-merge';
import { readJobPage, STATUS_CHANGES, type JobRow, type StatusChange } from './jobs-data';

export const PAGE_SIZE = 100;

export interface LiveJobList {
  rows: Signal<readonly JobRow[]>;
  hasNextPage: Signal<boolean>;
  totalCount: Signal<number | null>;
  loading: Signal<boolean>;
  error: Signal<string | null>;
  loadMore(): Promise<void>;
  /** Applies jobs read elsewhere (a heartbeat's refetch) as if they came from the feed. */
  apply(jobs: readonly JobRow[]): void;
  stop(): void;
}

/**
 * A paged list of jobs kept live by `jobStatusChanged`: changes are merged in place once per
 * frame, and after a lost connection the feed resumes from the last position it delivered, so none
 * is missed. Until the first change arrives there is no position to resume from: a drop then
 * reads the first page again instead.
 */
export function liveJobList(options: {
  filterInput: Record<string, unknown>;
  matches: (job: JobRow) => boolean;
  experimentId: string | null;
}): LiveJobList {
  const rows = signal<readonly JobRow[]>([]);
  const hasNextPage = signal(false);
  const totalCount = signal<number | null>(null);
  const loading = signal(true);
  const error = signal<string | null>(null);
  let endCursor: string | null = null;
  let loaded = false;
  let held: JobRow[] = [];
  let position: string | null = null;
  let subscriptions = 0;
  let reading: AbortController | null = null;

  const merge = (jobs: readonly JobRow[]) => {
    if (!loaded) {
      held.push(...jobs);
      return;
    }
    rows.value = mergeRows(rows.value, jobs, { matches: options.matches, complete: !hasNextPage.value });
  };

  const queue = frameQueue<StatusChange>((changes) => merge(changes.map((change) => change.job)));

  async function readFirstPage() {
    reading?.abort();
    const controller = (reading = new AbortController());
    loaded = false;
    loading.value = true;
    try {
      const page = await readJobPage(options.filterInput, PAGE_SIZE, null, controller.signal);
      if (controller.signal.aborted) return;
      endCursor = page.endCursor;
      hasNextPage.value = page.hasNextPage;
      totalCount.value = page.totalCount;
      rows.value = page.rows;
      loaded = true;
      error.value = null;
      // Changes that arrived while the page was read: only those newer than it count (see mergeRows).
      const early = held;
      held = [];
      if (early.length > 0) merge(early);
    } catch (caught) {
      if (!controller.signal.aborted) error.value = (caught as Error).message;
    } finally {
      if (!controller.signal.aborted) loading.value = false;
    }
  }

  const stopFeed = live<{ jobStatusChanged: StatusChange }>({
    query: STATUS_CHANGES,
    variables: () => {
      subscriptions += 1;
      // Resubscribing with no position seen: the changes during the drop are unknown, read again.
      if (subscriptions > 1 && position === null) void readFirstPage();
      // No status narrowing on the server: it narrows by the status a job moves *to*, and a job
      // leaving the filtered statuses must leave the list too.
      return { experimentId: options.experimentId, after: position };
    },
    next: ({ jobStatusChanged }) => {
      position = jobStatusChanged.position;
      queue.push(jobStatusChanged);
    },
    error: (caught) => (error.value = `live updates stopped: ${caught.message}`),
  });
  void readFirstPage();

  return {
    rows,
    hasNextPage,
    totalCount,
    loading,
    error,
    async loadMore() {
      if (!hasNextPage.value || loading.value) return;
      loading.value = true;
      try {
        const page = await readJobPage(options.filterInput, PAGE_SIZE, endCursor);
        endCursor = page.endCursor;
        const known = new Set(rows.value.map((row) => row.id));
        rows.value = [...rows.value, ...page.rows.filter((row) => !known.has(row.id))];
        hasNextPage.value = page.hasNextPage;
        totalCount.value = page.totalCount;
      } catch (caught) {
        error.value = (caught as Error).message;
      } finally {
        loading.value = false;
      }
    },
    apply: merge,
    stop() {
      stopFeed();
      queue.cancel();
      reading?.abort();
    },
  };
}
