import { signal, useSignal } from '@preact/signals';
import { memo } from 'preact/compat';
import { useEffect, useMemo } from 'preact/hooks';
import { frameQueue } from '../lib/frame';
import { live, request } from '../lib/graphql';
import { searchParams, setParams } from '../lib/route';
import { auditStateFromParams, auditStateToParams, eventFilterInput, isoTime, pushBounded, type AuditFilter, type AuditState } from '../logic/audit-filter';
import { streamLink } from '../logic/stream-link';
import { formatTime } from './lists/jobs-data';
import './lists/lists.css';

/** The tape keeps this many events, newest first; older ones fall off (read them again from a position). */
export const MAX_TAPE_EVENTS = 500;
const FIRST_SCREEN = 100;

const EVENT_FIELDS = 'id position timestamp type streamId revision metadata data';

const EVENTS_PAGE = `query AuditPage($after: String, $filter: EventFilter, $first: Int) {
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
 * The live event tape. The first screen comes from the `events` query, then the `events`
 * subscription continues after the last position read: across a pause, a lost connection or a
 * reload with `?after=`, no event is missed or shown twice.
 */
export function AuditView(_props: { id: string }) {
  const state = auditStateFromParams(searchParams.value);
  const stateKey = JSON.stringify(state);
  const tape = useMemo(() => auditTape(state), [stateKey]);
  useEffect(() => () => tape.stop(), [tape]);

  const paused = tape.paused.value;
  return (
    <section class="list-view">
      <h1>Audit log</h1>
      <AuditFilterBar state={state} onChange={(next) => setParams(auditStateToParams(next))} />
      <div class="toolbar">
        <span class={`tape-state ${paused ? 'tape-paused' : ''}`} data-testid="tape-state">
          {paused ? 'paused' : 'live'}
        </span>
        <button type="button" data-testid={paused ? 'tape-resume' : 'tape-pause'} onClick={() => (paused ? tape.resume() : tape.pause())}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="muted" data-testid="tape-position">
          last position: <span class="mono">{tape.position.value ?? 'none yet'}</span>
        </span>
        {tape.position.value && (
          <a href={`/audit?${new URLSearchParams(withoutEmpty(auditStateToParams({ ...state, after: tape.position.value }))).toString()}`} data-testid="link-from-here">
            link to what comes next
          </a>
        )}
      </div>
      <p class="muted list-count">
        {tape.events.value.length} event{tape.events.value.length === 1 ? '' : 's'} shown, newest first (at most {MAX_TAPE_EVENTS} are kept)
      </p>
      {tape.error.value && <p class="error">{tape.error.value}</p>}
      <table class="list-table">
        <thead>
          <tr>
            <th>Position</th>
            <th>Time</th>
            <th>Type</th>
            <th>Stream</th>
            <th>Actor</th>
            <th>Correlation / causation</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {tape.events.value.map((event) => (
            <EventRow key={event.id} event={event} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

const EventRow = memo(function EventRow({ event }: { event: AuditEvent }) {
  const open = useSignal(false);
  const text = (name: string) => (typeof event.metadata[name] === 'string' ? (event.metadata[name] as string) : null);
  const correlation = text('correlationId');
  const causation = text('causationId');
  return (
    <>
      <tr data-testid="event-row" data-position={event.position} data-type={event.type} data-stream={event.streamId}>
        <td class="mono">{event.position}</td>
        <td>{formatTime(event.timestamp)}</td>
        <td>{event.type}</td>
        <td class="mono">
          <a href={streamLink(event.streamId)} data-testid="event-stream">
            {event.streamId}
          </a>{' '}
          <span class="muted">@{event.revision}</span>
        </td>
        <td>{text('actor') ?? <span class="muted">—</span>}</td>
        <td class="event-ids mono">
          <div title="correlation id">{correlation ?? '—'}</div>
          {causation && causation !== correlation && <div title="causation id">↳ {causation}</div>}
        </td>
        <td>
          <button type="button" data-testid="event-data-toggle" aria-expanded={open.value} onClick={() => (open.value = !open.value)}>
            {open.value ? 'Hide' : 'Show'}
          </button>
        </td>
      </tr>
      {/* Serialised only when opened (500 rows of JSON would cost every render), across the whole row. */}
      {open.value && (
        <tr class="event-data-row">
          <td colSpan={7}>
            <pre class="event-data" data-testid="event-data">{JSON.stringify(event.data, null, 2)}</pre>
          </td>
        </tr>
      )}
    </>
  );
});

function withoutEmpty(params: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => !!entry[1]));
}

/** The tape's reads and feed for one filter and starting position. */
function auditTape(state: AuditState) {
  const events = signal<readonly AuditEvent[]>([]);
  const position = signal<string | null>(state.after);
  const paused = signal(false);
  const error = signal<string | null>(null);
  const filter = eventFilterInput(state.filter);
  let stopFeed: (() => void) | null = null;
  let stopped = false;

  const queue = frameQueue<AuditEvent>((arrivals) => {
    events.value = pushBounded(events.value, arrivals, MAX_TAPE_EVENTS);
  });

  const follow = () => {
    if (stopped || stopFeed) return;
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

  void (async () => {
    try {
      const data = await request<{ events: { edges: { node: AuditEvent }[] } }>(EVENTS_PAGE, { after: state.after, filter, first: FIRST_SCREEN });
      if (stopped) return;
      const page = data.events.edges.map((edge) => edge.node);
      events.value = pushBounded([], page, MAX_TAPE_EVENTS);
      if (page.length > 0) position.value = page[page.length - 1]!.position;
      follow();
    } catch (caught) {
      error.value = (caught as Error).message;
    }
  })();

  return {
    events,
    position,
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
      stopFeed?.();
      queue.cancel();
    },
  };
}

function AuditFilterBar({ state, onChange }: { state: AuditState; onChange: (next: AuditState) => void }) {
  const filter = state.filter;
  const set = (changes: Partial<AuditFilter>) => onChange({ ...state, filter: { ...filter, ...changes } });
  const field = (name: string, label: string, value: string, apply: (value: string) => void, type: 'search' | 'datetime-local' = 'search') => (
    <label class="filter-field">
      {label}
      {type === 'datetime-local' ? (
        <input type="datetime-local" step={1} name={name} data-testid={`filter-${name}`} value={value} onChange={(event) => apply(event.currentTarget.value.trim())} />
      ) : (
        <input type="search" name={name} data-testid={`filter-${name}`} value={value} onChange={(event) => apply(event.currentTarget.value.trim())} />
      )}
    </label>
  );
  return (
    <form class="toolbar filter-bar" onSubmit={(event) => event.preventDefault()}>
      {field('category', 'Category', filter.category ?? '', (v) => set({ category: v || null }))}
      {field('stream', 'Stream id', filter.streamId ?? '', (v) => set({ streamId: v || null }))}
      {field('types', 'Types (comma-separated)', filter.types.join(','), (v) =>
        set({ types: v.split(',').map((t) => t.trim()).filter(Boolean) }),
      )}
      {field('from', 'From', localInputTime(filter.from), (v) => set({ from: isoTime(v) }), 'datetime-local')}
      {field('to', 'To', localInputTime(filter.to), (v) => set({ to: isoTime(v) }), 'datetime-local')}
      {field('after', 'Start after position', state.after ?? '', (v) => onChange({ ...state, after: v || null }))}
      <button type="button" data-testid="filter-last-hour" onClick={() => set({ from: new Date(Date.now() - 3_600_000).toISOString(), to: null })}>
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
