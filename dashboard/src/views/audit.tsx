import { signal, useSignal, type Signal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { VirtualTable, type Column } from '../components/virtual-table';
import { frameQueue } from '../lib/frame';
import { live, request } from '../lib/graphql';
import { searchParams, setParams } from '../lib/route';
import {
  auditStateFromParams,
  auditStateToParams,
  describeRange,
  eventFilterInput,
  isoTime,
  pushBounded,
  withDefaultStart,
  DEFAULT_LOOKBACK_MS,
  type AuditFilter,
  type AuditState,
} from '../logic/audit-filter';
import { streamLink } from '../logic/stream-link';
import { formatTime } from './lists/jobs-data';
import './lists/lists.css';

/** The tape keeps this many events, newest first; older ones fall off (read them again from a position). */
const MAX_TAPE_EVENTS = 500;
/** Catching up is read in pages this large (the server's largest): fewer round trips than one event per message. */
const CATCH_UP_PAGE = 1000;

const EVENT_FIELDS = 'id position timestamp type streamId revision metadata data';

const EVENTS_PAGE = `query AuditPage($after: String, $filter: EventFilter, $first: Int) {
  logPosition
  events(after: $after, filter: $filter, first: $first) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage } }
}`;

const EVENTS_FEED = `subscription AuditTape($after: String, $filter: EventFilter) {
  events(after: $after, filter: $filter) { ${EVENT_FIELDS} }
}`;

interface AuditEvent {
  id: string;
  position: string;
  timestamp: string;
  type: string;
  streamId: string;
  revision: number;
  metadata: Record<string, unknown>;
  data: unknown;
}

/**
 * The live event tape. With no start in the URL it opens on the last hour (written into the URL):
 * there is no backward paging, and replaying the whole log to show its newest 500 events would read
 * every event ever written. The range is read in pages (only the newest 500 kept), then the `events`
 * subscription continues after the last position read: across a pause, a lost connection or a reload
 * with `?after=`, no event is missed or shown twice.
 */
export function AuditView(_props: { id: string }) {
  const opened = useMemo(() => Date.now(), []);
  const state = withDefaultStart(auditStateFromParams(searchParams.value), opened);
  const stateKey = JSON.stringify(state);
  const tape = useMemo(() => auditTape(state), [stateKey]);
  useEffect(() => () => tape.stop(), [tape]);
  // The default start goes into the URL (replacing, not pushing), so what is shown is what a link opens.
  useEffect(() => setParams(auditStateToParams(state)), [stateKey]);
  const selected = useSignal<AuditEvent | null>(null);
  const columns = useMemo(() => eventColumns(selected), [selected]);

  const paused = tape.paused.value;
  const shown = tape.events.value;
  return (
    <section class="list-view">
      <h1>Audit log</h1>
      <AuditFilterBar state={state} onChange={(next) => setParams(auditStateToParams(next))} />
      <div class="toolbar">
        <span class={`tape-state ${paused ? 'tape-paused' : ''}`} data-testid="tape-state">
          {tape.catchingUp.value ? 'reading…' : paused ? 'paused' : 'live'}
        </span>
        <button
          type="button"
          data-testid={paused ? 'tape-resume' : 'tape-pause'}
          onClick={() => (paused ? tape.resume() : tape.pause())}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="muted" data-testid="tape-position">
          last position: <span class="mono">{tape.position.value ?? 'none yet'}</span>
        </span>
        {tape.position.value && (
          <a
            href={`/audit?${new URLSearchParams(withoutEmpty(auditStateToParams({ ...state, after: tape.position.value }))).toString()}`}
            data-testid="link-from-here"
          >
            link to what comes next
          </a>
        )}
      </div>
      <p class="audit-range" data-testid="tape-range">
        {describeRange(state, formatTime)}.{' '}
        <span class="muted">
          {tape.received.value.toLocaleString()} event{tape.received.value === 1 ? '' : 's'} read
          {tape.received.value > shown.length ? `, the newest ${shown.length} shown` : ''} (newest first; at most{' '}
          {MAX_TAPE_EVENTS} are kept).
        </span>{' '}
        {!state.fromBeginning && (
          <button
            type="button"
            data-testid="tape-from-beginning"
            onClick={() =>
              setParams(
                auditStateToParams({
                  ...state,
                  after: null,
                  fromBeginning: true,
                  filter: { ...state.filter, from: null },
                }),
              )
            }
          >
            From the beginning
          </button>
        )}
      </p>
      {tape.error.value && <p class="error">{tape.error.value}</p>}
      <VirtualTable
        rows={shown}
        columns={columns}
        rowKey={(event) => event.id}
        rowTestId="event-row"
        rowAttributes={(event) => ({
          'data-position': event.position,
          'data-type': event.type,
          'data-stream': event.streamId,
        })}
        class="audit-table"
        label="events"
        empty={tape.catchingUp.value ? 'Reading…' : 'No event in this range yet.'}
      />
      {/* Serialised only when asked for: 500 rows of JSON would cost every render. */}
      {selected.value && (
        <section class="audit-event-data">
          <h2>
            {selected.value.type}{' '}
            <span class="muted mono">
              {selected.value.streamId}@{selected.value.revision}
            </span>{' '}
            <button type="button" onClick={() => (selected.value = null)}>
              Close
            </button>
          </h2>
          <pre class="event-data" data-testid="event-data">
            {JSON.stringify(selected.value.data, null, 2)}
          </pre>
        </section>
      )}
    </section>
  );
}

function metadataText(event: AuditEvent, name: string): string | null {
  return typeof event.metadata[name] === 'string' ? event.metadata[name] : null;
}

function eventColumns(selected: Signal<AuditEvent | null>): Column<AuditEvent>[] {
  return [
    { key: 'position', header: 'Position', width: '12em', cell: (event) => <span class="mono">{event.position}</span> },
    { key: 'time', header: 'Time', width: '14em', cell: (event) => formatTime(event.timestamp) },
    { key: 'type', header: 'Type', width: 'minmax(10em, 1fr)', cell: (event) => event.type },
    {
      key: 'stream',
      header: 'Stream',
      width: 'minmax(14em, 1.5fr)',
      cell: (event) => (
        <span class="mono">
          <a href={streamLink(event.streamId)} data-testid="event-stream">
            {event.streamId}
          </a>{' '}
          <span class="muted">@{event.revision}</span>
        </span>
      ),
    },
    {
      key: 'actor',
      header: 'Actor',
      width: 'minmax(6em, 0.7fr)',
      cell: (event) => metadataText(event, 'actor') ?? <span class="muted">—</span>,
    },
    {
      key: 'ids',
      header: 'Correlation / causation',
      width: 'minmax(12em, 1fr)',
      cell: (event) => {
        const correlation = metadataText(event, 'correlationId');
        const causation = metadataText(event, 'causationId');
        // One line per row (rows have a fixed height): the causation follows when it differs.
        return (
          <span
            class="event-ids mono"
            title={
              causation && causation !== correlation
                ? `correlation ${correlation ?? '—'}, causation ${causation}`
                : undefined
            }
          >
            {correlation ?? '—'}
            {causation && causation !== correlation ? ` ↳ ${causation}` : ''}
          </span>
        );
      },
    },
    {
      key: 'data',
      header: 'Data',
      width: '6em',
      cell: (event) => {
        const open = selected.value?.id === event.id;
        return (
          <button
            type="button"
            data-testid="event-data-toggle"
            aria-expanded={open}
            onClick={() => (selected.value = open ? null : event)}
          >
            {open ? 'Hide' : 'Show'}
          </button>
        );
      },
    },
  ];
}

function withoutEmpty(params: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => !!entry[1]));
}

/** The tape's reads and feed for one filter and starting position. */
function auditTape(state: AuditState) {
  const events = signal<readonly AuditEvent[]>([]);
  const position = signal<string | null>(state.after);
  const received = signal(0);
  const catchingUp = signal(true);
  const paused = signal(false);
  const error = signal<string | null>(null);
  const filter = eventFilterInput(state.filter);
  let stopFeed: (() => void) | null = null;
  let stopped = false;
  const abort = new AbortController();

  const queue = frameQueue<AuditEvent>((arrivals) => {
    events.value = pushBounded(events.value, arrivals, MAX_TAPE_EVENTS);
    received.value += arrivals.length;
  });

  const follow = () => {
    if (stopped || stopFeed || catchingUp.peek()) return;
    stopFeed = live<{ events: AuditEvent }>({
      query: EVENTS_FEED,
      // After a drop (or a pause) the feed resumes after the last event it delivered.
      variables: () => ({ after: position.peek(), filter }),
      next: ({ events: event }) => {
        position.value = event.position;
        queue.push(event);
      },
      error: (caught) => (error.value = `live updates stopped: ${caught.message}`),
    });
  };

  // The range up to now, a page at a time; memory stays at the newest MAX_TAPE_EVENTS however long it is.
  void (async () => {
    try {
      let after = state.after;
      let startedAt: string | null | undefined;
      for (;;) {
        const data = await request<{
          logPosition: string | null;
          events: { edges: { node: AuditEvent }[]; pageInfo: { hasNextPage: boolean } };
        }>(EVENTS_PAGE, { after, filter, first: CATCH_UP_PAGE }, abort.signal);
        if (stopped) return;
        startedAt ??= data.logPosition;
        const page = data.events.edges.map((edge) => edge.node);
        events.value = pushBounded(events.value, page, MAX_TAPE_EVENTS);
        received.value += page.length;
        if (page.length > 0) after = page[page.length - 1]!.position;
        if (!data.events.pageInfo.hasNextPage || page.length === 0) break;
      }
      // Nothing in the range yet: every event up to the first read's log position is in the store and
      // none matched, so the feed starts after that position (not from the log's start).
      position.value = after ?? startedAt ?? null;
      catchingUp.value = false;
      if (!paused.peek()) follow();
    } catch (caught) {
      if (!stopped) error.value = (caught as Error).message;
    }
  })();

  return {
    events,
    position,
    received,
    catchingUp,
    paused,
    error,
    /** Stops appending; the position stays, so resuming misses nothing. */
    pause() {
      paused.value = true;
      stopFeed?.();
      stopFeed = null;
    },
    resume() {
      paused.value = false;
      follow();
    },
    stop() {
      stopped = true;
      abort.abort();
      stopFeed?.();
      queue.cancel();
    },
  };
}

function AuditFilterBar({ state, onChange }: { state: AuditState; onChange: (next: AuditState) => void }) {
  const filter = state.filter;
  const set = (changes: Partial<AuditFilter>) => onChange({ ...state, filter: { ...filter, ...changes } });
  const field = (
    name: string,
    label: string,
    value: string,
    apply: (value: string) => void,
    type: 'search' | 'datetime-local' = 'search',
  ) => (
    <label class="filter-field">
      {label}
      {type === 'datetime-local' ? (
        <input
          type="datetime-local"
          step={1}
          name={name}
          data-testid={`filter-${name}`}
          value={value}
          onChange={(event) => apply(event.currentTarget.value.trim())}
        />
      ) : (
        <input
          type="search"
          name={name}
          data-testid={`filter-${name}`}
          value={value}
          onChange={(event) => apply(event.currentTarget.value.trim())}
        />
      )}
    </label>
  );
  return (
    <form class="toolbar filter-bar" onSubmit={(event) => event.preventDefault()}>
      {field('category', 'Category', filter.category ?? '', (v) => set({ category: v || null }))}
      {field('stream', 'Stream id', filter.streamId ?? '', (v) => set({ streamId: v || null }))}
      {field('types', 'Types (comma-separated)', filter.types.join(','), (v) =>
        set({
          types: v
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        }),
      )}
      {/* Clearing "From" means no lower bound: the whole log (the default start applies only to a URL naming none). */}
      {field(
        'from',
        'From',
        localInputTime(filter.from),
        (v) => {
          const from = isoTime(v);
          onChange({ ...state, fromBeginning: from === null, filter: { ...filter, from } });
        },
        'datetime-local',
      )}
      {field('to', 'To', localInputTime(filter.to), (v) => set({ to: isoTime(v) }), 'datetime-local')}
      {field('after', 'Start after position', state.after ?? '', (v) => onChange({ ...state, after: v || null }))}
      <button
        type="button"
        data-testid="filter-last-hour"
        onClick={() =>
          onChange({
            ...state,
            after: null,
            fromBeginning: false,
            filter: { ...filter, from: new Date(Date.now() - DEFAULT_LOOKBACK_MS).toISOString(), to: null },
          })
        }
      >
        Last hour
      </button>
    </form>
  );
}

/** An ISO time as a `datetime-local` input shows it (the browser's time zone, to the second). */
function localInputTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 19);
}
