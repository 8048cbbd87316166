/**
 * The audit tape's filter and starting position in the URL:
 * `?category=job&stream=job-…&types=JobClaimed,JobFailed&from=<ISO>&to=<ISO>&after=<position>`.
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
  /** The position the tape starts after (exclusive); null: from the log's start. */
  after: string | null;
}

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
  };
}

export function auditStateToParams(state: AuditState): Record<string, string | null> {
  const { filter } = state;
  return {
    category: filter.category || null,
    stream: filter.streamId || null,
    types: filter.types.length > 0 ? filter.types.join(',') : null,
    from: filter.from || null,
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
