/**
 * The audit tape's filter and starting position in the URL:
 * `?category=job&stream=job-…&types=JobClaimed,JobFailed&from=<ISO>&to=<ISO>&after=<position>`.
 * `from=beginning` asks for the whole log; with neither `from` nor `after` the tape opens on the live
 * tail: the last hour (`withDefaultStart`), written into the URL so the link shows what is shown.
 */
export interface AuditFilter {
  category: string | null;
  streamId: string | null;
  types: string[];
  /** ISO 8601 times (as the server's DateTime takes them). */
  from: string | null;
  to: string | null;
}

export interface AuditState {
  filter: AuditFilter;
  /** The position the tape starts after (exclusive); null: from `filter.from`, or the log's start. */
  after: string | null;
  /** Asked for explicitly (`from=beginning`): the whole log, oldest first, then live. */
  fromBeginning: boolean;
}

/** The marker `from` takes in the URL for "the whole log". */
const FROM_BEGINNING = 'beginning';
/** How far back the tape opens when the URL names no start: there is no backward paging to find "the last N". */
export const DEFAULT_LOOKBACK_MS = 3_600_000;

/** A time the URL gives, as ISO 8601; null when absent or not a time (a hand-edited link still opens). */
export function isoTime(text: string | null | undefined): string | null {
  if (!text?.trim()) return null;
  const time = Date.parse(text.trim());
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

export function auditStateFromParams(params: URLSearchParams): AuditState {
  const text = (name: string) => params.get(name)?.trim() || null;
  const types = (params.get('types') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    filter: {
      category: text('category'),
      streamId: text('stream'),
      types: [...new Set(types)],
      from: isoTime(params.get('from')),
      to: isoTime(params.get('to')),
    },
    after: text('after'),
    fromBeginning: text('from') === FROM_BEGINNING,
  };
}

/**
 * The state the tape opens with: as the URL says when it names a start (a time, a position or the
 * beginning); otherwise the live tail, from `lookbackMs` before `now`. Replaying the whole log to
 * show its last 500 events would read every event ever written.
 */
export function withDefaultStart(state: AuditState, now: number, lookbackMs = DEFAULT_LOOKBACK_MS): AuditState {
  if (state.after || state.filter.from || state.fromBeginning) return state;
  return { ...state, filter: { ...state.filter, from: new Date(now - lookbackMs).toISOString() } };
}

/** What the tape shows, in words: where it starts, where it ends, and whether it is live. */
export function describeRange(state: AuditState, formatTime: (iso: string) => string): string {
  const start = state.after
    ? `after position ${state.after}${state.filter.from ? ` (and from ${formatTime(state.filter.from)})` : ''}`
    : state.filter.from
      ? `from ${formatTime(state.filter.from)}`
      : 'from the beginning of the log';
  const end = state.filter.to ? `to ${formatTime(state.filter.to)}` : 'to now, then live';
  return `Events ${start} ${end}`;
}

export function auditStateToParams(state: AuditState): Record<string, string | null> {
  const { filter } = state;
  return {
    category: filter.category || null,
    stream: filter.streamId || null,
    types: filter.types.length > 0 ? filter.types.join(',') : null,
    from: filter.from || (state.fromBeginning ? FROM_BEGINNING : null),
    to: filter.to || null,
    after: state.after || null,
  };
}

/** The GraphQL `EventFilter` input, or null when nothing narrows the log. */
export function eventFilterInput(filter: AuditFilter): Record<string, unknown> | null {
  const input: Record<string, unknown> = {};
  if (filter.category) input.category = filter.category;
  if (filter.streamId) input.streamId = filter.streamId;
  if (filter.types.length > 0) input.types = filter.types;
  if (filter.from) input.from = filter.from;
  if (filter.to) input.to = filter.to;
  return Object.keys(input).length > 0 ? input : null;
}

/**
 * The tape, newest first, holding at most `max` events: the newest arrivals go on top and the
 * oldest fall off, so hours of a busy log cost the page no more memory than a screenful.
 */
export function pushBounded<T>(tape: readonly T[], arrivals: readonly T[], max: number): T[] {
  const newestFirst = arrivals.slice(-max).reverse();
  return newestFirst.concat(tape.slice(0, Math.max(0, max - newestFirst.length)));
}
