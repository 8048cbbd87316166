import { useEffect, useMemo } from 'preact/hooks';
import { VirtualTable, type Column } from '../components/virtual-table';
import { searchParams, setParams } from '../lib/route';
import {
  JOB_STATUSES,
  jobFilterFromParams,
  jobFilterInput,
  jobFilterToParams,
  jobMatches,
  type JobFilter,
} from '../logic/job-filter';
import { formatTime, type JobRow } from './lists/jobs-data';
import { liveJobList } from './lists/live-jobs';
import './lists/lists.css';

/** Every job, filtered by status, label, experiment, worker and algorithm (all in the URL), live. */
export function JobsView(_props: { id: string }) {
  const filter = jobFilterFromParams(searchParams.value);
  const filterKey = JSON.stringify(filter);
  const list = useMemo(
    () =>
      liveJobList({
        filterInput: jobFilterInput(filter),
        matches: (job) => jobMatches(job, filter),
        experimentId: filter.experimentId,
      }),
    [filterKey],
  );
  useEffect(() => () => list.stop(), [list]);

  const change = (changes: Partial<JobFilter>) => setParams(jobFilterToParams({ ...filter, ...changes }));
  const rows = list.rows.value;
  return (
    <section class="list-view">
      <h1>Jobs</h1>
      <JobFilterBar filter={filter} onChange={change} />
      <p class="muted list-count" data-testid="job-count">
        {list.totalCount.value === null
          ? 'loading…'
          : list.hasNextPage.value
            ? `${rows.length} shown of ${list.totalCount.value} (as counted when the list was read)`
            : `${rows.length} job${rows.length === 1 ? '' : 's'}`}
      </p>
      {list.error.value && <p class="error">{list.error.value}</p>}
      {/* Virtualized: "load more" may bring thousands of rows; only those in view are in the DOM. */}
      <VirtualTable
        rows={rows}
        columns={JOB_COLUMNS}
        rowKey={(job) => job.id}
        rowTestId="job-row"
        rowAttributes={(job) => ({ 'data-job-id': job.id, 'data-status': job.status })}
        class="jobs-table"
        label="jobs"
      />
      {rows.length === 0 && !list.loading.value && <p class="muted">No jobs match.</p>}
      {list.hasNextPage.value && (
        <button
          type="button"
          data-testid="load-more"
          disabled={list.loading.value}
          onClick={() => void list.loadMore()}
        >
          Load more
        </button>
      )}
    </section>
  );
}

const none = <span class="muted">—</span>;

const JOB_COLUMNS: readonly Column<JobRow>[] = [
  {
    key: 'id',
    header: 'Job',
    width: 'minmax(16em, 1.5fr)',
    cell: (job) => (
      <a class="mono" href={`/jobs/${encodeURIComponent(job.id)}`}>
        {job.id}
      </a>
    ),
  },
  {
    key: 'status',
    header: 'Status',
    width: '8em',
    cell: (job) => <span class={`status status-${job.status}`}>{job.status}</span>,
  },
  {
    key: 'experiment',
    header: 'Experiment',
    width: 'minmax(8em, 1fr)',
    cell: (job) =>
      job.experiment ? (
        <a href={`/experiments/${encodeURIComponent(job.experiment.id)}`}>{job.experiment.name}</a>
      ) : (
        none
      ),
  },
  { key: 'labels', header: 'Labels', width: 'minmax(6em, 1fr)', cell: (job) => job.labels.join(', ') || none },
  {
    key: 'worker',
    header: 'Worker',
    width: 'minmax(6em, 1fr)',
    cell: (job) => (job.workerId ? <span class="mono">{job.workerId}</span> : none),
  },
  {
    key: 'algorithm',
    header: 'Algorithm',
    width: 'minmax(6em, 1fr)',
    cell: (job) =>
      job.algorithmId ? `${job.algorithmId}${job.algorithmVersion !== null ? ` v${job.algorithmVersion}` : ''}` : none,
  },
  { key: 'attempts', header: 'Attempts', width: '6em', align: 'end', cell: (job) => job.attempts },
  { key: 'created', header: 'Created', width: '14em', cell: (job) => formatTime(job.createdAt) },
  { key: 'objective', header: 'Objective', width: '7em', align: 'end', cell: (job) => job.objectiveValue ?? none },
];

function JobFilterBar({ filter, onChange }: { filter: JobFilter; onChange: (changes: Partial<JobFilter>) => void }) {
  const toggle = (status: (typeof JOB_STATUSES)[number]) =>
    onChange({
      status: filter.status.includes(status) ? filter.status.filter((s) => s !== status) : [...filter.status, status],
    });
  const text = (name: 'label' | 'experimentId' | 'workerId' | 'algorithmId', label: string) => (
    <label class="filter-field">
      {label}
      <input
        type="search"
        name={name}
        data-testid={`filter-${name}`}
        value={filter[name] ?? ''}
        // Applied on Enter or leaving the field: each keystroke would re-read the list.
        onChange={(event) => onChange({ [name]: (event.target as HTMLInputElement).value.trim() || null })}
      />
    </label>
  );
  return (
    <form class="toolbar filter-bar" onSubmit={(event) => event.preventDefault()}>
      <fieldset class="status-filter">
        <legend>Status</legend>
        {JOB_STATUSES.map((status) => (
          <label key={status}>
            <input
              type="checkbox"
              data-testid={`filter-status-${status}`}
              checked={filter.status.includes(status)}
              onChange={() => toggle(status)}
            />
            {status.toLowerCase()}
          </label>
        ))}
      </fieldset>
      {text('label', 'Label')}
      {text('experimentId', 'Experiment id')}
      {text('workerId', 'Worker')}
      {text('algorithmId', 'Algorithm')}
    </form>
  );
}
