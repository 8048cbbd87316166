// The leaderboard: every trial, ranked, sortable by any column and filtered, its state in the URL
// (`?sort=objective&dir=asc&status=SUCCEEDED&q=lr<0.01`); virtualized so 10,000 rows scroll smoothly.
import { useMemo } from 'preact/hooks';
import { VirtualTable, type Column } from '../../components/virtual-table';
import { param, setParams } from '../../lib/route';
import { formatNumber } from '../../logic/experiment-settings';
import {
  leaderboardParams,
  leaderboardRows,
  parseLeaderboardQuery,
  pruningReason,
  toggleSort,
  type LeaderboardQuery,
  type LeaderboardRow,
  type Objective,
  type SortKey,
} from '../../logic/leaderboard';
import type { Trial, TrialStatus } from './trial';

const STATUSES: TrialStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'PRUNED', 'CANCELLED'];

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return formatNumber(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function columnsFor(parameters: string[]): Column<LeaderboardRow>[] {
  return [
    { key: 'rank', header: '#', width: '4em', align: 'end', sortable: true, cell: (row) => row.rank ?? '' },
    {
      key: 'id',
      header: 'trial',
      width: 'minmax(9em, 16em)',
      sortable: true,
      cell: ({ trial }) => (
        <a href={`/jobs/${encodeURIComponent(trial.id)}`} class="mono" title={trial.id}>
          {trial.id}
        </a>
      ),
    },
    {
      key: 'status',
      header: 'status',
      width: '7.5em',
      sortable: true,
      cell: ({ trial }) => (
        <span class={`status status-${trial.status}`} title={pruningReason(trial.pruning) ?? undefined}>
          {trial.status}
        </span>
      ),
    },
    {
      key: 'objective',
      header: 'objective',
      width: '8em',
      align: 'end',
      sortable: true,
      cell: ({ trial }) => formatCell(trial.objectiveValue),
    },
    ...parameters.map((name): Column<LeaderboardRow> => ({
      key: `hp.${name}`,
      header: name,
      width: 'minmax(6em, 10em)',
      align: 'end',
      sortable: true,
      cell: ({ trial }) => formatCell(trial.hyperparameters[name]),
    })),
    {
      key: 'finished',
      header: 'finished',
      width: 'minmax(11em, 1fr)',
      sortable: true,
      cell: ({ trial }) => (trial.finishedAt ? TIME.format(new Date(trial.finishedAt)) : ''),
    },
  ];
}

function setQuery(query: LeaderboardQuery): void {
  setParams(leaderboardParams(query));
}

export function Leaderboard({
  trials,
  objective,
  parameters,
}: {
  trials: Trial[];
  objective: Objective;
  parameters: string[];
}) {
  const query = parseLeaderboardQuery(param);
  const statusKey = query.status.join(',');
  const rows = useMemo(
    () => leaderboardRows(trials, objective, query),
    [trials, objective, query.sort, query.dir, statusKey, query.text],
  );
  const columns = useMemo(() => columnsFor(parameters), [parameters.join('\u0000')]);
  const toggleStatus = (status: TrialStatus) => {
    const shown = new Set(query.status);
    if (shown.has(status)) shown.delete(status);
    else shown.add(status);
    setQuery({ ...query, status: STATUSES.filter((s) => shown.has(s)) });
  };
  return (
    <section class="leaderboard">
      <div class="toolbar" role="toolbar" aria-label="leaderboard filters">
        <span class="muted">status</span>
        {STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            class="chip"
            aria-pressed={query.status.includes(status)}
            data-testid={`filter-${status}`}
            onClick={() => toggleStatus(status)}
          >
            {status.toLowerCase()}
          </button>
        ))}
        <input
          type="search"
          class="leaderboard-search"
          placeholder="filter: adam  lr<0.01  batch=64"
          aria-label="filter by hyperparameters"
          value={query.text}
          onInput={(event) => setQuery({ ...query, text: (event.target as HTMLInputElement).value })}
        />
        <span class="muted" data-testid="leaderboard-count">
          {rows.length === trials.length ? `${trials.length} trials` : `${rows.length} of ${trials.length} trials`}
        </span>
      </div>
      <VirtualTable
        rows={rows}
        columns={columns}
        rowKey={(row) => row.trial.id}
        rowTestId="leaderboard-row"
        sort={{ key: query.sort, dir: query.dir }}
        onSort={(key) => setQuery(toggleSort(query, key as SortKey))}
        class="leaderboard-table"
        label="leaderboard"
        empty={trials.length ? 'No trial matches the filter.' : 'No trials yet.'}
      />
    </section>
  );
}
