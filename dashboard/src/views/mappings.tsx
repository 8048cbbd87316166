import { signal, useSignal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { frameQueue } from '../lib/frame';
import { liveFrom, request } from '../lib/graphql';
import { searchParams, setParams } from '../lib/route';
import { may } from '../lib/session';
import { mappingRows, migrationInput, withJobStatus, type MappingNode } from '../logic/mapping-rows';
import './lists/lists.css';

const PAGE_SIZE = 100;
/** The server's largest page: a refetch of a longer window reads it in pieces this size. */
const MAX_PAGE = 1000;

// logPosition comes with every page (it costs nothing): the first one's is where both feeds start.
const MAPPINGS_PAGE = `query MappingsPage($entityId: String, $first: Int, $after: String) {
  logPosition
  mappings(entityId: $entityId, first: $first, after: $after) {
    pageInfo { endCursor hasNextPage }
    edges { node { entityId entityVersion stateName interactionId carriedFrom jobs { algorithmId job { id status revision algorithmVersion } } } }
  }
}`;

const MAPPING_EVENTS = `subscription MappingEvents($after: String) {
  events(after: $after, filter: { category: "mapping" }) { position }
}`;

const JOB_STATUS = `subscription MappedJobStatus($after: String) {
  jobStatusChanged(after: $after) { position job { id status revision } }
}`;

const MIGRATE = `mutation Migrate($input: MigrateMappingsInput!) {
  migrateMappings(input: $input) { dryRun examined changes { action entityId entityVersion stateName algorithmId jobId } }
}`;

interface MappingChange {
  action: string;
  entityId: string;
  entityVersion: number;
  stateName: string;
  algorithmId: string;
  jobId: string | null;
}

interface Migration {
  dryRun: boolean;
  examined: number;
  changes: MappingChange[];
}

/** Training mappings (entity, version, state → algorithm → job), filtered by entity in the URL, live. */
export function MappingsView(_props: { id: string }) {
  const entityId = searchParams.value.get('entity')?.trim() || null;
  const table = useMemo(() => liveMappings(entityId), [entityId]);
  useEffect(() => () => table.stop(), [table]);

  const rows = mappingRows(table.mappings.value);
  return (
    <section class="list-view">
      <h1>Training mappings</h1>
      <form class="toolbar filter-bar" onSubmit={(event) => event.preventDefault()}>
        <label class="filter-field">
          Entity
          <input
            type="search"
            name="entity"
            data-testid="filter-entity"
            value={entityId ?? ''}
            onChange={(event) => setParams({ entity: event.currentTarget.value.trim() || null })}
          />
        </label>
      </form>
      {table.error.value && <p class="error">{table.error.value}</p>}
      <table class="list-table">
        <thead>
          <tr>
            <th>Entity</th>
            <th>Version</th>
            <th>State</th>
            <th>Interaction</th>
            <th>Algorithm</th>
            <th>Job</th>
            <th>Job status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.key}
              data-testid="mapping-row"
              data-entity={row.entityId}
              data-state={row.stateName}
              data-job-id={row.jobId ?? ''}
            >
              <td>
                <a href={`/mappings?${new URLSearchParams({ entity: row.entityId }).toString()}`}>{row.entityId}</a>
              </td>
              <td>{row.entityVersion}</td>
              <td>{row.stateName}</td>
              <td>{row.interactionId}</td>
              <td>
                {row.algorithmId ? (
                  `${row.algorithmId}${row.algorithmVersion !== null ? ` v${row.algorithmVersion}` : ''}`
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td class="mono">
                {row.jobId ? (
                  <a href={`/jobs/${encodeURIComponent(row.jobId)}`}>{row.jobId}</a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td>
                {row.jobStatus ? (
                  <span class={`status status-${row.jobStatus}`}>{row.jobStatus}</span>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !table.loading.value && (
        <p class="muted">No mappings{entityId ? ` for ${entityId}` : ''}.</p>
      )}
      {table.hasNextPage.value && (
        <button
          type="button"
          data-testid="load-more"
          disabled={table.loading.value}
          onClick={() => void table.loadMore()}
        >
          Load more
        </button>
      )}
      {may('migrate') && <MigrationPanel entityId={entityId} />}
    </section>
  );
}

/**
 * The loaded mappings, kept live: a mapping event (created, job added, upgraded, removed) reads the
 * loaded window again (one read in flight, further events coalesced into one more), and a job's
 * status change is written into the rows holding it (unless the row already shows a later revision).
 * Both feeds start after the log position read with the first page, so a change made while it loads
 * comes on a feed, and resume from their last position after a lost connection.
 */
function liveMappings(entityId: string | null) {
  const mappings = signal<readonly MappingNode[]>([]);
  const hasNextPage = signal(false);
  const loading = signal(true);
  const error = signal<string | null>(null);
  let endCursor: string | null = null;
  let stopped = false;
  let reading = false;
  let again = false;

  async function readWindow(count: number): Promise<void> {
    const nodes: MappingNode[] = [];
    let after: string | null = null;
    let more = true;
    while (more && nodes.length < count) {
      const data: {
        logPosition: string | null;
        mappings: { pageInfo: { endCursor: string | null; hasNextPage: boolean }; edges: { node: MappingNode }[] };
      } = await request(MAPPINGS_PAGE, { entityId, first: Math.min(MAX_PAGE, count - nodes.length), after });
      if (!following && !stopped) follow(data.logPosition);
      nodes.push(...data.mappings.edges.map((edge) => edge.node));
      after = data.mappings.pageInfo.endCursor;
      more = data.mappings.pageInfo.hasNextPage;
    }
    if (stopped) return;
    mappings.value = nodes;
    endCursor = after;
    hasNextPage.value = more;
  }

  /** Reads the loaded rows again (and room for new ones when all are loaded): one read at a time. */
  async function refresh(): Promise<void> {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const count = Math.max(PAGE_SIZE, mappings.peek().length + (hasNextPage.peek() ? 0 : PAGE_SIZE));
        await readWindow(count);
        error.value = null;
      } while (again && !stopped);
    } catch (caught) {
      error.value = (caught as Error).message;
    } finally {
      reading = false;
      loading.value = false;
    }
  }

  let following = false;
  let stopEvents: (() => void) | null = null;
  let stopStatuses: (() => void) | null = null;
  const changed = frameQueue<unknown>(() => void refresh());
  const statuses = frameQueue<{ id: string; status: string; revision: number }>((jobs) => {
    let next = mappings.peek();
    for (const job of jobs) next = withJobStatus(next, job.id, job.status, job.revision);
    mappings.value = next;
  });
  // A null position (an empty log) starts `events` at the log's start (nothing to skip) and
  // `jobStatusChanged` from now (a job mapped in that instant shows its status with its next change).
  function follow(position: string | null) {
    following = true;
    stopEvents = liveFrom<{ events: { position: string } }>(position, {
      query: MAPPING_EVENTS,
      variables: (after) => ({ after }),
      positionOf: ({ events }) => events.position,
      next: () => changed.push(null),
    });
    stopStatuses = liveFrom<{
      jobStatusChanged: { position: string; job: { id: string; status: string; revision: number } };
    }>(position, {
      query: JOB_STATUS,
      variables: (after) => ({ after }),
      positionOf: ({ jobStatusChanged }) => jobStatusChanged.position,
      next: ({ jobStatusChanged }) => statuses.push(jobStatusChanged.job),
    });
  }
  void refresh();

  return {
    mappings,
    hasNextPage,
    loading,
    error,
    async loadMore() {
      if (!hasNextPage.value || loading.value) return;
      loading.value = true;
      try {
        const data = await request<{
          mappings: { pageInfo: { endCursor: string | null; hasNextPage: boolean }; edges: { node: MappingNode }[] };
        }>(MAPPINGS_PAGE, { entityId, first: PAGE_SIZE, after: endCursor });
        mappings.value = [...mappings.value, ...data.mappings.edges.map((edge) => edge.node)];
        endCursor = data.mappings.pageInfo.endCursor;
        hasNextPage.value = data.mappings.pageInfo.hasNextPage;
      } catch (caught) {
        error.value = (caught as Error).message;
      } finally {
        loading.value = false;
      }
    },
    stop() {
      stopped = true;
      stopEvents?.();
      stopStatuses?.();
      changed.cancel();
      statuses.cancel();
    },
  };
}

/** Preview (a dry run) shows what a migration would change; Run applies it after a confirmation. */
function MigrationPanel({ entityId }: { entityId: string | null }) {
  const form = useSignal({ entityId: entityId ?? '', entityVersion: '', stateName: '' });
  const preview = useSignal<{ key: string; result: Migration } | null>(null);
  const applied = useSignal<Migration | null>(null);
  const confirming = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const formKey = JSON.stringify(form.value);

  const migrate = async (dryRun: boolean) => {
    const { input, error: invalid } = migrationInput(form.value, dryRun);
    if (invalid) {
      error.value = invalid;
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      const { migrateMappings } = await request<{ migrateMappings: Migration }>(MIGRATE, { input });
      if (dryRun) {
        preview.value = { key: formKey, result: migrateMappings };
        applied.value = null;
      } else {
        applied.value = migrateMappings;
        preview.value = null;
      }
    } catch (caught) {
      error.value = (caught as Error).message;
    } finally {
      busy.value = false;
      confirming.value = false;
    }
  };

  const field = (name: 'entityId' | 'entityVersion' | 'stateName', label: string) => (
    <label class="filter-field">
      {label}
      <input
        type="text"
        name={name}
        data-testid={`migrate-${name}`}
        value={form.value[name]}
        placeholder="all"
        onInput={(event) => (form.value = { ...form.value, [name]: event.currentTarget.value })}
      />
    </label>
  );
  // Run applies exactly what was previewed: changing a field asks for a new preview first.
  const previewed = preview.value && preview.value.key === formKey ? preview.value.result : null;
  return (
    <section class="migration-panel" data-testid="migration-panel">
      <h2>Migrate mappings</h2>
      <p class="muted">Brings mappings up to the algorithms registered now. Blank fields mean all.</p>
      <div class="toolbar filter-bar">
        {field('entityId', 'Entity')}
        {field('entityVersion', 'Version')}
        {field('stateName', 'State')}
        <button type="button" data-testid="migrate-preview" disabled={busy.value} onClick={() => void migrate(true)}>
          Preview
        </button>
        <button
          type="button"
          data-testid="migrate-run"
          disabled={busy.value || !previewed || previewed.changes.length === 0}
          onClick={() => (confirming.value = true)}
        >
          Run…
        </button>
      </div>
      {error.value && (
        <p class="error" data-testid="migrate-error">
          {error.value}
        </p>
      )}
      {confirming.value && previewed && (
        <div class="confirm" role="alertdialog" data-testid="migrate-confirm">
          <strong>
            Apply {previewed.changes.length} change{previewed.changes.length === 1 ? '' : 's'}?
          </strong>
          <button
            type="button"
            data-testid="migrate-confirm-run"
            disabled={busy.value}
            onClick={() => void migrate(false)}
          >
            Run migration
          </button>
          <button type="button" data-testid="migrate-confirm-cancel" onClick={() => (confirming.value = false)}>
            Cancel
          </button>
        </div>
      )}
      {previewed && (
        <MigrationChanges
          title={`Preview: ${previewed.examined} mappings examined`}
          migration={previewed}
          testid="migrate-preview-result"
        />
      )}
      {applied.value && (
        <MigrationChanges
          title={`Applied: ${applied.value.examined} mappings examined`}
          migration={applied.value}
          testid="migrate-result"
        />
      )}
    </section>
  );
}

const SHOWN_CHANGES = 200;

function MigrationChanges({ title, migration, testid }: { title: string; migration: Migration; testid: string }) {
  const shown = migration.changes.slice(0, SHOWN_CHANGES);
  return (
    <div data-testid={testid}>
      <h3>
        {title}, {migration.changes.length} change{migration.changes.length === 1 ? '' : 's'}
      </h3>
      {shown.length > 0 && (
        <table class="list-table">
          <thead>
            <tr>
              <th>Action</th>
              <th>Entity</th>
              <th>Version</th>
              <th>State</th>
              <th>Algorithm</th>
              <th>Job</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((change) => (
              <tr
                key={`${change.entityId}/${change.entityVersion}/${change.stateName}/${change.algorithmId}`}
                data-testid="migration-change"
                data-action={change.action}
              >
                <td class={`action-${change.action}`}>{change.action}</td>
                <td>{change.entityId}</td>
                <td>{change.entityVersion}</td>
                <td>{change.stateName}</td>
                <td>{change.algorithmId}</td>
                <td class="mono">
                  {change.jobId ? (
                    <a href={`/jobs/${encodeURIComponent(change.jobId)}`}>{change.jobId}</a>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {migration.changes.length > shown.length && (
        <p class="muted">and {migration.changes.length - shown.length} more</p>
      )}
    </div>
  );
}
