// The experiment page's top: name, status, description, live counts, progress and the actions a role may take.
import { useSignal } from '@preact/signals';
import { describeError, request } from '../../lib/graphql';
import { may } from '../../lib/session';
import type { TrialCounts } from '../../logic/trials';
import { ACTIONS } from './queries';

export interface ExperimentSummary {
  id: string;
  name: string;
  status: 'RUNNING' | 'PAUSED' | 'DONE';
  description: string | null;
  config: Record<string, unknown>;
  scheduler: 'GRID' | 'MANUAL' | 'PBT' | 'RANDOM' | 'TPE';
  maxJobs: number | null;
  maxConcurrent: number | null;
  stopThreshold: number | null;
  createdAt: string;
  objective: { metric: string; direction: 'MINIMIZE' | 'MAXIMIZE' } | null;
  jobCounts: TrialCounts;
}

type Action = keyof typeof ACTIONS;

/** Which actions the experiment's status allows (the server refuses the rest with CONFLICT anyway). */
function allowedActions(status: ExperimentSummary['status']): Action[] {
  if (status === 'RUNNING') return ['pause', 'finish'];
  if (status === 'PAUSED') return ['resume', 'finish'];
  return [];
}

const LABELS: Record<Action, string> = { pause: 'Pause', resume: 'Resume', finish: 'Finish' };
const COUNTED: (keyof TrialCounts)[] = ['queued', 'running', 'succeeded', 'failed', 'pruned', 'cancelled', 'total'];

export function Counts({ counts, maxJobs }: { counts: TrialCounts; maxJobs: number | null }) {
  return (
    <div class="counts" data-testid="experiment-counts">
      {COUNTED.map((name) => (
        <div key={name} class={`count count-${name}`} data-testid={`count-${name}`}>
          <span class="count-value">{counts[name]}</span>
          <span class="count-label">{name}</span>
        </div>
      ))}
      {maxJobs !== null && (
        <div class="count count-progress">
          <progress max={maxJobs} value={Math.min(counts.total, maxJobs)} aria-label="trials created of maxJobs" />
          <span class="count-label">
            {counts.total} of {maxJobs} trials
          </span>
        </div>
      )}
    </div>
  );
}

export function Actions({
  experiment,
  onChanged,
}: {
  experiment: ExperimentSummary;
  onChanged: (status: ExperimentSummary['status']) => void;
}) {
  const busy = useSignal<Action | null>(null);
  const error = useSignal<string | null>(null);
  if (!may('editExperiments')) return null;
  const actions = allowedActions(experiment.status);
  const run = async (action: Action) => {
    busy.value = action;
    error.value = null;
    try {
      const data = await request<Record<string, { status: ExperimentSummary['status'] }>>(ACTIONS[action], {
        id: experiment.id,
      });
      const result = Object.values(data)[0];
      if (result) onChanged(result.status);
    } catch (failure) {
      error.value = describeError(failure);
    } finally {
      busy.value = null;
    }
  };
  return (
    <div class="actions">
      {actions.map((action) => (
        <button
          key={action}
          type="button"
          data-testid={`action-${action}`}
          title={action === 'finish' ? 'No more trials; queued and running ones are cancelled' : undefined}
          disabled={busy.value !== null}
          onClick={() => void run(action)}
        >
          {busy.value === action ? `${LABELS[action]}…` : LABELS[action]}
        </button>
      ))}
      {error.value && (
        <span class="error" role="alert" data-testid="action-error">
          {error.value}
        </span>
      )}
    </div>
  );
}
