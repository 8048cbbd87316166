// The experiment page's trials, loaded in pages and kept live, exposed as signals that change at most
// once per animation frame. Only the jobs that changed are read again: one change carries one job.
import { signal, type Signal } from '@preact/signals';
import { frameQueue } from '../../lib/frame';
import { describeError, liveFrom, request } from '../../lib/graphql';
import { RefreshPlan } from '../../logic/refresh-plan';
import { curveFromBuckets, TrialSet, type CurveBucket, type TrialJob } from '../../logic/trials';
import { CURVE_PAGE, curvesOf, JOB_CHANGES, TRIAL_PAGE } from './queries';
import type { Trial } from './trial';

/** The server's page limit: 10,000 trials are 10 requests. */
const TRIAL_PAGE_SIZE = 1000;
/** Curves weigh ~64 buckets each: smaller pages keep each answer a few hundred KB. */
const CURVE_PAGE_SIZE = 250;
const CURVE_BUCKETS = 64;
/** A trial reporting metrics is read again at most this often. */
const CURVE_REFRESH_MS = 2000;
/** Trials per refresh request. */
const CURVE_REFRESH_BATCH = 50;

interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

interface JobChange {
  position: string;
  type: string;
  job: TrialJob;
}

interface CurveJob {
  id: string;
  metrics: { buckets: CurveBucket[] }[];
}

export interface LoadState {
  /** Trials read so far by the initial pages. */
  loaded: number;
  /** All pages are in. */
  complete: boolean;
  error: string | null;
  /** The live feed stopped (refused, or the server has no such subscription). */
  liveError: string | null;
}

export interface TrialsStore {
  trials: Signal<Trial[]>;
  state: Signal<LoadState>;
  /** Start loading and following learning curves of `metric` (once; the Curves tab asks for it). */
  wantCurves(metric: string): void;
  dispose(): void;
}

export function createTrialsStore(experimentId: string): TrialsStore {
  const set = new TrialSet();
  const trials = signal<Trial[]>([]);
  const state = signal<LoadState>({ loaded: 0, complete: false, error: null, liveError: null });
  const abort = new AbortController();
  let curveMetric: string | null = null;
  const plan = new RefreshPlan(CURVE_REFRESH_MS, CURVE_REFRESH_BATCH);
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshing = false;

  const publish = () => {
    const next = set.snapshot();
    if (next !== trials.value) trials.value = next;
  };
  const patchState = (patch: Partial<LoadState>) => (state.value = { ...state.value, ...patch });

  // Live changes, one batch per frame: each updates one trial; a metrics report also asks for its curve.
  const changes = frameQueue<JobChange>((batch) => {
    for (const change of batch) {
      set.applyChange(change.job);
      if (curveMetric && change.type === 'JobMetricsReported') plan.mark(change.job.id);
    }
    publish();
    scheduleRefresh();
  });

  // The feed starts after the log position read with the first page (both from the same read models,
  // so the page shows at least everything up to it): a change made while pages load, or between the
  // first page and the subscribe, comes on the feed. One may come twice (in a page and on the feed);
  // a copy older than what the set holds is ignored by revision (logic/trials.ts). After a lost
  // connection the feed resumes after the last change it delivered.
  let stopLive: (() => void) | null = null;
  const follow = (after: string | null) => {
    stopLive = liveFrom<{ experimentJobsChanged: JobChange }>(after, {
      query: JOB_CHANGES,
      variables: (after) => ({ id: experimentId, after }),
      positionOf: ({ experimentJobsChanged }) => experimentJobsChanged.position,
      next: ({ experimentJobsChanged }) => changes.push(experimentJobsChanged),
      error: (error) => patchState({ liveError: describeError(error) }),
    });
  };

  async function loadPages(): Promise<void> {
    let after: string | null = null;
    try {
      for (;;) {
        const data: { logPosition: string | null; experiment: { jobs: Connection<TrialJob> } | null } = await request(
          TRIAL_PAGE,
          { id: experimentId, first: TRIAL_PAGE_SIZE, after },
          abort.signal,
        );
        if (!data.experiment) throw new Error('no such experiment');
        // The experiment exists, so the log is not empty and the position is not null.
        if (!stopLive && !abort.signal.aborted) follow(data.logPosition);
        const page = data.experiment.jobs;
        set.addPage(page.edges.map((edge) => edge.node));
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
        after = page.pageInfo.endCursor;
        publish(); // the first page shows at once; later ones at most once a frame (Preact batches renders)
        patchState({ loaded: set.size });
      }
      set.finishLoading();
      publish();
      patchState({ loaded: set.size, complete: true });
    } catch (error) {
      if (abort.signal.aborted) return;
      patchState({ error: describeError(error) });
    }
  }

  async function loadCurves(metric: string): Promise<void> {
    let after: string | null = null;
    try {
      for (;;) {
        const data: { experiment: { jobs: Connection<CurveJob> } | null } = await request(
          CURVE_PAGE,
          { id: experimentId, first: CURVE_PAGE_SIZE, after, metric, buckets: CURVE_BUCKETS },
          abort.signal,
        );
        const page = data.experiment?.jobs;
        if (!page) return;
        for (const { node } of page.edges) applyCurve(node);
        publish();
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
        after = page.pageInfo.endCursor;
      }
    } catch (error) {
      if (!abort.signal.aborted) patchState({ error: `curves: ${describeError(error)}` });
    }
  }

  function applyCurve(job: CurveJob): void {
    const buckets = job.metrics[0]?.buckets ?? [];
    set.setCurve(job.id, curveFromBuckets(buckets));
  }

  function scheduleRefresh(): void {
    if (refreshing || refreshTimer !== undefined || !curveMetric || plan.pending === 0) return;
    const { keys, nextAt } = plan.take(Date.now());
    if (keys.length === 0) {
      if (nextAt !== null)
        refreshTimer = setTimeout(() => ((refreshTimer = undefined), scheduleRefresh()), nextAt - Date.now());
      return;
    }
    refreshing = true;
    const variables: Record<string, unknown> = { metric: curveMetric, buckets: CURVE_BUCKETS };
    keys.forEach((id, i) => (variables[`id${i}`] = id));
    request<Record<string, CurveJob | null>>(curvesOf(keys.length), variables, abort.signal)
      .then((data) => {
        for (const job of Object.values(data)) if (job) applyCurve(job);
        publish();
      })
      .catch(() => {
        // A failed refresh is retried with the next report of those trials; the rest of the page stays live.
      })
      .finally(() => {
        refreshing = false;
        if (!abort.signal.aborted) scheduleRefresh();
      });
  }

  const pagesLoaded = loadPages();

  return {
    trials,
    state,
    wantCurves(metric) {
      if (curveMetric) return;
      curveMetric = metric;
      // After the trials: a curve is kept only for a trial the set holds.
      void pagesLoaded.then(() => loadCurves(metric));
    },
    dispose() {
      abort.abort();
      stopLive?.();
      changes.cancel();
      clearTimeout(refreshTimer);
    },
  };
}
