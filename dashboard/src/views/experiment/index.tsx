// The Experiment page: header, settings and live counts, then one tab at a time (`?tab=`): the
// leaderboard, the optimization history, learning curves, parallel coordinates and, for PBT, the lineage
// (the charts are views/experiment/charts/).
import { useSignal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { frameQueue } from '../../lib/frame';
import { describeError, liveFrom, request } from '../../lib/graphql';
import { param, setParams } from '../../lib/route';
import { declaredParameters } from '../../logic/experiment-settings';
import { parameterNames } from '../../logic/leaderboard';
import { countTrials } from '../../logic/trials';
import { LearningCurves, Lineage, OptimizationHistory, ParallelCoordinates } from './charts';
import { Actions, Counts, type ExperimentSummary } from './header';
import { Leaderboard } from './leaderboard';
import { EXPERIMENT, EXPERIMENT_EVENTS } from './queries';
import { Settings } from './settings';
import { createTrialsStore } from './store';
import './experiment.css';

type Tab = 'leaderboard' | 'history' | 'curves' | 'parallel' | 'lineage';
const TABS: { id: Tab; label: string }[] = [
  { id: 'leaderboard', label: 'Leaderboard' },
  { id: 'history', label: 'History' },
  { id: 'curves', label: 'Curves' },
  { id: 'parallel', label: 'Parallel coordinates' },
  { id: 'lineage', label: 'Lineage' },
];

function tabsFor(experiment: ExperimentSummary): typeof TABS {
  return TABS.filter((tab) => tab.id !== 'lineage' || experiment.scheduler === 'PBT');
}

/** The experiment's header, read again after each event of its own stream (paused, resumed, finished). */
function useExperiment(id: string) {
  const experiment = useSignal<ExperimentSummary | null>(null);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    // The feed starts after the log position read with the first answer (both from the same read
    // models): a pause or finish made between the read and the subscribe still comes on the feed.
    let stop: (() => void) | null = null;
    const follow = (after: string | null) => {
      stop = liveFrom<{ events: { position: string } }>(after, {
        query: EXPERIMENT_EVENTS,
        variables: (after) => ({ streamId: `experiment-${id}`, after }),
        positionOf: ({ events }) => events.position,
        next: ({ events }) => reload.push(events.position),
      });
    };
    const load = async () => {
      try {
        const data = await request<{ logPosition: string | null; experiment: ExperimentSummary | null }>(
          EXPERIMENT,
          { id },
          abort.signal,
        );
        if (!data.experiment) error.value = `No experiment ${id}.`;
        else experiment.value = data.experiment;
        if (!stop && data.experiment && !abort.signal.aborted) {
          follow(data.logPosition);
        }
      } catch (failure) {
        if (!abort.signal.aborted) error.value = describeError(failure);
      }
    };
    // A burst of events (a resume after a long drop) costs one read per frame.
    const reload = frameQueue<string>(() => void load());
    void load();
    return () => {
      abort.abort();
      reload.cancel();
      stop?.();
    };
  }, [id]);
  return { experiment, error };
}

export function ExperimentView({ id }: { id: string }) {
  const { experiment, error } = useExperiment(id);
  const store = useMemo(() => createTrialsStore(id), [id]);
  useEffect(() => () => store.dispose(), [store]);

  const summary = experiment.value;
  const trials = store.trials.value;
  const state = store.state.value;
  const objective = summary?.objective ?? null;
  const declared = useMemo(() => (summary ? declaredParameters(summary.config) : []), [summary?.config]);
  // A search with a space gives every trial exactly its parameters (hand-made jobs included); a manual
  // one declares none, so its columns come from the trials (a scan per change: manual searches are small).
  const seen = useMemo(() => (declared.length ? [] : parameterNames(trials)), [declared, trials]);
  const seenKey = seen.join('\u0000');
  const parameters = useMemo(() => (declared.length ? declared : seen), [declared, seenKey]);
  const counts = useMemo(
    () => (state.complete ? countTrials(trials) : summary?.jobCounts),
    [state.complete, trials, summary?.jobCounts],
  );

  const tabs = summary ? tabsFor(summary) : TABS;
  const tabParam = param('tab');
  const tab: Tab = tabs.some((t) => t.id === tabParam) ? (tabParam as Tab) : 'leaderboard';
  useEffect(() => {
    if (tab === 'curves' && objective) store.wantCurves(objective.metric);
  }, [tab, objective?.metric, store]);

  if (error.value) return <p class="error">{error.value}</p>;
  if (!summary) return <p class="muted">Loading experiment…</p>;

  return (
    <article class="experiment">
      <header class="experiment-header">
        <div class="experiment-title">
          <h1>
            <a href="/experiments" class="muted">
              Experiments
            </a>{' '}
            / {summary.name}
          </h1>
          <span class={`status status-${summary.status}`} data-testid="experiment-status">
            {summary.status}
          </span>
          <Actions experiment={summary} onChanged={(status) => (experiment.value = { ...summary, status })} />
        </div>
        {summary.description && <p class="experiment-description">{summary.description}</p>}
        {counts && <Counts counts={counts} maxJobs={summary.maxJobs} />}
        {!state.complete && !state.error && (
          <p class="muted" data-testid="trials-loading">
            Loading trials… {state.loaded}
          </p>
        )}
        {state.error && <p class="error">{state.error}</p>}
        {state.liveError && <p class="error">Live updates stopped: {state.liveError}</p>}
      </header>
      <Settings experiment={summary} />
      <nav class="tabs" role="tablist" aria-label="experiment views">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={t.id === tab}
            data-testid={`tab-${t.id}`}
            onClick={() => setParams({ tab: t.id === 'leaderboard' ? null : t.id })}
          >
            {t.label}
          </button>
        ))}
      </nav>
      <section role="tabpanel" class="tab-panel">
        {tab === 'leaderboard' && <Leaderboard trials={trials} objective={objective} parameters={parameters} />}
        {tab === 'history' && <OptimizationHistory trials={trials} objective={objective} />}
        {tab === 'curves' && <LearningCurves trials={trials} objective={objective} />}
        {tab === 'parallel' && <ParallelCoordinates trials={trials} objective={objective} parameters={parameters} />}
        {tab === 'lineage' && <Lineage trials={trials} objective={objective} />}
      </section>
    </article>
  );
}
