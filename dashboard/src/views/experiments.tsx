// The Experiments list: a page of experiments (`?status=`, `?after=`) kept live without polling. Job
// status changes and the experiments' own events name the rows they touch; only those rows are read
// again, once per frame however many events arrive.
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { frameQueue } from '../lib/frame';
import { describeError, liveFrom, request } from '../lib/graphql';
import { param, setParams } from '../lib/route';
import { formatNumber } from '../logic/experiment-settings';
import {
  experimentOfStream,
  parseStatusFilter,
  progressToward,
  rowsToRefresh,
  type ExperimentStatus,
} from '../logic/experiments-list';
import './experiments.css';

const PAGE_SIZE = 50;
const ROW_READ_GAP_MS = 250;

const ROW_FIELDS = /* GraphQL */ `
  id name status maxJobs scheduler
  objective { metric direction }
  jobCounts { queued running succeeded failed pruned cancelled total }
  bestJob { id objectiveValue }
`;

const PAGE = /* GraphQL */ `
  query ExperimentsPage($first: Int!, $after: String, $status: ExperimentStatus) {
    logPosition
    experiments(first: $first, after: $after, status: $status) {
      edges { node { ${ROW_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

function rowsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$id${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `r${i}: experiment(id: $id${i}) { ${ROW_FIELDS} }`).join('\n');
  return `query ExperimentRows(${variables}) {\n${fields}\n}`;
}

const JOB_STATUS =
  'subscription ListJobStatus($after: String) { jobStatusChanged(after: $after) { position job { experiment { id } } } }';
const EXPERIMENT_EVENTS = /* GraphQL */ `
  subscription ListExperimentEvents($after: String) {
    events(filter: { category: "experiment" }, after: $after) {
      position
      type
      streamId
    }
  }
`;

interface Row {
  id: string;
  name: string;
  status: ExperimentStatus;
  maxJobs: number | null;
  scheduler: string;
  objective: { metric: string; direction: 'MINIMIZE' | 'MAXIMIZE' } | null;
  jobCounts: {
    queued: number;
    running: number;
    succeeded: number;
    failed: number;
    pruned: number;
    cancelled: number;
    total: number;
  };
  bestJob: { id: string; objectiveValue: number | null } | null;
}

interface Page {
  rows: Row[];
  hasNextPage: boolean;
  endCursor: string | null;
}

interface Touch {
  experimentId: string | null;
  created: boolean;
}

function Progress({ row }: { row: Row }) {
  const done = progressToward(row.jobCounts.total, row.maxJobs);
  if (done === null) return <span class="muted">{row.jobCounts.total} trials</span>;
  return (
    <span class="progress-cell" title={`${row.jobCounts.total} of ${row.maxJobs} trials`}>
      <progress max={row.maxJobs!} value={Math.min(row.jobCounts.total, row.maxJobs!)} />
      <span class="progress-text">
        {row.jobCounts.total}/{row.maxJobs}
      </span>
    </span>
  );
}

function JobCounts({ counts }: { counts: Row['jobCounts'] }) {
  const parts: [keyof Row['jobCounts'], string][] = [
    ['queued', 'queued'],
    ['running', 'running'],
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['pruned', 'pruned'],
  ];
  return (
    <span class="job-counts" data-testid="experiment-counts">
      {parts.map(([key, label]) => (
        <span key={key} class={`job-count job-count-${key}`} title={label} data-testid={`count-${key}`}>
          <span class="job-count-value">{counts[key]}</span> {label}
        </span>
      ))}
    </span>
  );
}

export function ExperimentsView(_props: { id: string }) {
  const status = parseStatusFilter(param('status'));
  const after = param('after');
  const page = useSignal<Page | null>(null);
  const error = useSignal<string | null>(null);
  // Cursors of the pages before this one, so "previous" works without a backward cursor.
  const previous = useSignal<(string | null)[]>([]);

  useEffect(() => {
    const abort = new AbortController();
    let current: Page | null = null;
    const show = (next: Page) => {
      current = next;
      page.value = next;
    };
    // One page read at a time: reads asked for meanwhile (a burst of events) become one more read after it.
    let reading: Promise<void> | null = null;
    let readAgain = false;
    const loadPage = (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return reading;
      }
      reading = readPage().finally(() => {
        reading = null;
        if (readAgain && !abort.signal.aborted) {
          readAgain = false;
          void loadPage();
        }
      });
      return reading;
    };
    const readPage = async () => {
      try {
        const data = await request<{
          logPosition: string | null;
          experiments: { edges: { node: Row }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
        }>(PAGE, { first: PAGE_SIZE, after, status }, abort.signal);
        const { edges, pageInfo } = data.experiments;
        show({ rows: edges.map((e) => e.node), hasNextPage: pageInfo.hasNextPage, endCursor: pageInfo.endCursor });
        error.value = null;
        if (!following && !abort.signal.aborted) follow(data.logPosition);
      } catch (failure) {
        if (!abort.signal.aborted) error.value = describeError(failure);
      }
    };
    // Rows touched while a read is in flight, or within ROW_READ_GAP_MS of the last, wait and go in the
    // next read: a busy server's hundred status changes a second cost a few reads a second, not one per frame.
    const waitingRows = new Set<string>();
    let rowsInFlight = false;
    let rowsTimer: ReturnType<typeof setTimeout> | undefined;
    const loadRows = (ids: string[]) => {
      for (const id of ids) waitingRows.add(id);
      if (rowsInFlight || rowsTimer !== undefined) return;
      const batch = [...waitingRows];
      waitingRows.clear();
      rowsInFlight = true;
      void readRows(batch).finally(() => {
        rowsInFlight = false;
        if (abort.signal.aborted) return;
        rowsTimer = setTimeout(() => {
          rowsTimer = undefined;
          if (waitingRows.size) loadRows([]);
        }, ROW_READ_GAP_MS);
      });
    };
    const readRows = async (ids: string[]) => {
      const variables = Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));
      try {
        const data = await request<Record<string, Row | null>>(rowsQuery(ids.length), variables, abort.signal);
        if (!current) return;
        const fresh = new Map(
          Object.values(data)
            .filter((row): row is Row => row !== null)
            .map((row) => [row.id, row]),
        );
        // A row whose status left the filter stays until the page is read again: rows do not vanish under the pointer.
        show({ ...current, rows: current.rows.map((row) => fresh.get(row.id) ?? row) });
      } catch {
        // The next change of those rows reads them again.
      }
    };

    const touched = frameQueue<Touch>((events) => {
      if (!current) return;
      const visible = new Set(current.rows.map((row) => row.id));
      const refresh = rowsToRefresh(events, visible, !current.hasNextPage);
      if (refresh.page) void loadPage();
      else if (refresh.ids.length) loadRows(refresh.ids);
    });

    // Both feeds start after the log position read with the first page (from the same read models,
    // so the page shows everything up to it): a change made between the read and the subscribe comes
    // on a feed, none is missed. After a lost connection each resumes after the last change it delivered.
    // A position is null only while the log is empty: `events` then reads from the log's start (no gap),
    // `jobStatusChanged` from now (a job created in that instant waits for its experiment's next event).
    let following = false;
    const stops: (() => void)[] = [];
    const follow = (position: string | null) => {
      following = true;
      stops.push(
        liveFrom<{ jobStatusChanged: { position: string; job: { experiment: { id: string } | null } } }>(position, {
          query: JOB_STATUS,
          variables: (after) => ({ after }),
          positionOf: ({ jobStatusChanged }) => jobStatusChanged.position,
          next: ({ jobStatusChanged }) =>
            touched.push({ experimentId: jobStatusChanged.job.experiment?.id ?? null, created: false }),
        }),
        liveFrom<{ events: { position: string; type: string; streamId: string } }>(position, {
          query: EXPERIMENT_EVENTS,
          variables: (after) => ({ after }),
          positionOf: ({ events }) => events.position,
          next: ({ events }) =>
            touched.push({
              experimentId: experimentOfStream(events.streamId),
              created: events.type === 'ExperimentCreated',
            }),
        }),
      );
    };
    void loadPage();

    return () => {
      abort.abort();
      clearTimeout(rowsTimer);
      touched.cancel();
      for (const stop of stops) stop();
    };
  }, [status, after]);

  const rows = page.value?.rows ?? [];
  return (
    <section class="experiments">
      <h1>Experiments</h1>
      <div class="toolbar">
        <label>
          status{' '}
          <select
            data-testid="status-filter"
            value={status ?? ''}
            onChange={(event) => {
              previous.value = [];
              setParams({ status: (event.target as HTMLSelectElement).value, after: null });
            }}
          >
            <option value="">any</option>
            <option value="RUNNING">running</option>
            <option value="PAUSED">paused</option>
            <option value="DONE">done</option>
          </select>
        </label>
      </div>
      {error.value && <p class="error">{error.value}</p>}
      {!page.value && !error.value && <p class="muted">Loading…</p>}
      {page.value && rows.length === 0 && <p class="muted">No experiments{status ? ` with status ${status}` : ''}.</p>}
      {rows.length > 0 && (
        <table class="experiments-table">
          <thead>
            <tr>
              <th>name</th>
              <th>status</th>
              <th>trials</th>
              <th class="num">best objective</th>
              <th>progress</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-testid="experiment-row" data-experiment-id={row.id}>
                <td>
                  <a href={`/experiments/${encodeURIComponent(row.id)}`}>{row.name}</a>
                  <span class="muted scheduler">{row.scheduler.toLowerCase()}</span>
                </td>
                <td>
                  <span class={`status status-${row.status}`}>{row.status}</span>
                </td>
                <td>
                  <JobCounts counts={row.jobCounts} />
                </td>
                <td class="num" data-testid="best-objective">
                  {row.bestJob?.objectiveValue !== null && row.bestJob?.objectiveValue !== undefined ? (
                    <a
                      href={`/jobs/${encodeURIComponent(row.bestJob.id)}`}
                      title={
                        row.objective ? `${row.objective.direction.toLowerCase()} ${row.objective.metric}` : undefined
                      }
                    >
                      {formatNumber(row.bestJob.objectiveValue)}
                    </a>
                  ) : (
                    <span class="muted">–</span>
                  )}
                  {row.objective && <span class="muted metric"> {row.objective.metric}</span>}
                </td>
                <td>
                  <Progress row={row} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button
          type="button"
          disabled={!after}
          onClick={() => {
            const stack = previous.value.slice();
            const back = stack.pop() ?? null;
            previous.value = stack;
            setParams({ after: back });
          }}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={!page.value?.hasNextPage}
          onClick={() => {
            previous.value = [...previous.value, after];
            setParams({ after: page.value?.endCursor ?? null });
          }}
        >
          Next
        </button>
      </div>
    </section>
  );
}
