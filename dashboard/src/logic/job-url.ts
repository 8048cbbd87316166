// The job page's state in its URL: `?tab=logs&q=loss&rev=12`. Anything unreadable falls back to
// the default rather than failing, so a hand-edited link still opens the page.

// The overview holds the details and the metric charts together: curves are what people open a job for.
export const JOB_TABS = ['overview', 'logs', 'history'] as const;
export type JobTab = (typeof JOB_TABS)[number];

export interface JobPageState {
  tab: JobTab;
  /** The log search text ('' for none). */
  query: string;
  /** The revision being looked at (time travel), or null for the live job. */
  revision: number | null;
}

export function parseJobPageState(search: string | URLSearchParams): JobPageState {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const tab = params.get('tab');
  const rev = params.get('rev');
  return {
    tab: (JOB_TABS as readonly string[]).includes(tab ?? '') ? (tab as JobTab) : 'overview',
    query: params.get('q') ?? '',
    revision: rev !== null && /^\d{1,9}$/.test(rev) ? Number(rev) : null,
  };
}

/** The query parameters for a state (defaults left out, so the plain link stays plain). */
export function jobPageParams(state: Partial<JobPageState>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (state.tab !== undefined) out.tab = state.tab === 'overview' ? null : state.tab;
  if (state.query !== undefined) out.q = state.query || null;
  if (state.revision !== undefined) out.rev = state.revision === null ? null : String(state.revision);
  return out;
}
