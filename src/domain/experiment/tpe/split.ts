/**
 * Which trials TPE takes as good ("below", the density l) and which as the
 * rest ("above", g), as Optuna 4.6's `_split_trials`: the best γ(n) of the
 * finished trials by objective, topped up with pruned trials that got
 * furthest (latest step, then the value there); running trials join the rest
 * (the constant liar), so that concurrent proposals repel each other.
 */
export type Direction = 'MINIMIZE' | 'MAXIMIZE';

export type TpeTrialState = 'COMPLETE' | 'PRUNED' | 'RUNNING';

export interface TpeTrial<P = unknown> {
  /** The trial's slot: Optuna's trial number. */
  index: number;
  state: TpeTrialState;
  /** COMPLETE: the objective's value. */
  value: number | null;
  /** PRUNED: the objective's report at the largest step reported, if any. */
  lastReport: { step: number; value: number } | null;
  params: P;
}

/** Optuna's `default_gamma`: how many trials are "below". */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Smaller is better: a pruned trial that got further first, then the better value at its last step. */
function prunedKey(trial: TpeTrial, direction: Direction): [number, number] {
  if (!trial.lastReport) return [1, 0];
  const { step, value } = trial.lastReport;
  if (Number.isNaN(value)) return [-step, Number.POSITIVE_INFINITY];
  return [-step, direction === 'MINIMIZE' ? value : -value];
}

const byIndex = (a: TpeTrial, b: TpeTrial) => a.index - b.index;

/** Splits the trials (running ones only with the liar on); both halves in trial order. */
export function splitTrials<P>(
  trials: readonly TpeTrial<P>[],
  direction: Direction,
  nBelow: number,
): { below: TpeTrial<P>[]; above: TpeTrial<P>[] } {
  const inOrder = [...trials].sort(byIndex);
  const complete = inOrder.filter((t) => t.state === 'COMPLETE');
  const pruned = inOrder.filter((t) => t.state === 'PRUNED');
  const running = inOrder.filter((t) => t.state === 'RUNNING');
  // Stable sorts: equal keys keep trial order, as Python's sorted (reverse=True included).
  complete.sort((a, b) => (direction === 'MINIMIZE' ? a.value! - b.value! : b.value! - a.value!));
  pruned.sort((a, b) => {
    const [sa, va] = prunedKey(a, direction);
    const [sb, vb] = prunedKey(b, direction);
    return sa !== sb ? sa - sb : va === vb ? 0 : va < vb ? -1 : 1;
  });
  const fromComplete = Math.min(nBelow, complete.length);
  const fromPruned = Math.min(Math.max(0, nBelow - fromComplete), pruned.length);
  return {
    below: [...complete.slice(0, fromComplete), ...pruned.slice(0, fromPruned)].sort(byIndex),
    above: [...complete.slice(fromComplete), ...pruned.slice(fromPruned), ...running].sort(byIndex),
  };
}
