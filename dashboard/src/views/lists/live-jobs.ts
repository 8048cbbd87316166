import { signal, type Signal } from '@preact/signals';
import { frameQueue } from '../../lib/frame';
import { liveFrom } from '../../lib/graphql';
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
  /**
   * The log position the first page was read at, once it is read: another feed of the same view (the
   * workers' heartbeats) starts after it too.
   */
  started: Promise<string | null>;
  /** Applies jobs read elsewhere (a heartbeat's refetch) as if they came from the feed. */
  apply(jobs: readonly JobRow[]): void;
  stop(): void;
}

/**
 * A paged list of jobs kept live by `jobStatusChanged`: the first page is read with the log position
 * its read models had reached, and the feed starts after that position, so a change made while the
 * page loads (or between the read and the subscribe) comes on the feed. Changes are merged in place
 * once per frame, an older copy never over a newer one (a change may come twice: in the page and on
 * the feed). After a lost connection the feed resumes after the last position it delivered.
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
  let stopFeed: (() => void) | null = null;
  let stopped = false;
  let markStarted: (position: string | null) => void = () => {};
  const started = new Promise<string | null>((resolve) => (markStarted = resolve));

  const merge = (jobs: readonly JobRow[]) => {
    rows.value = mergeRows(rows.value, jobs, { matches: options.matches, complete: !hasNextPage.value });
  };

  const queue = frameQueue<StatusChange>((changes) => merge(changes.map((change) => change.job)));

  async function readFirstPage() {
    try {
      const page = await readJobPage(options.filterInput, PAGE_SIZE, null);
      if (stopped) return;
      endCursor = page.endCursor;
      hasNextPage.value = page.hasNextPage;
      totalCount.value = page.totalCount;
      rows.value = page.rows;
      error.value = null;
      follow(page.logPosition);
      markStarted(page.logPosition);
    } catch (caught) {
      if (!stopped) error.value = (caught as Error).message;
    } finally {
      if (!stopped) loading.value = false;
    }
  }

  // A null position (the log was empty when read) starts the feed "from now": nothing existed to miss
  // but a job created in the instant between the read and the subscribe.
  function follow(after: string | null) {
    stopFeed = liveFrom<{ jobStatusChanged: StatusChange }>(after, {
      query: STATUS_CHANGES,
      // No status narrowing on the server: it narrows by the status a job moves *to*, and a job
      // leaving the filtered statuses must leave the list too.
      variables: (after) => ({ experimentId: options.experimentId, after }),
      positionOf: ({ jobStatusChanged }) => jobStatusChanged.position,
      next: ({ jobStatusChanged }) => queue.push(jobStatusChanged),
      error: (caught) => (error.value = `live updates stopped: ${caught.message}`),
    });
  }
  void readFirstPage();

  return {
    rows,
    hasNextPage,
    totalCount,
    loading,
    error,
    started,
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
      stopped = true;
      stopFeed?.();
      queue.cancel();
    },
  };
}
