// "Why was this trial pruned?" in words, from what the pruning event recorded (Job.pruning):
// the rule, the step, the trial's value there, the threshold it was compared with and how many
// trials that threshold came from.

export interface PruningDecision {
  rule: string;
  step: number;
  value: number;
  threshold: number | null;
  comparedTrials: number | null;
  rung: number | null;
}

/** A number as people read it: up to 4 significant digits, no trailing zeros. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}

function trials(count: number): string {
  return `${count} completed trial${count === 1 ? '' : 's'}`;
}

export function pruningSentence(decision: PruningDecision): string {
  const { step, value, threshold, comparedTrials, rung, rule } = decision;
  const head = `Pruned at step ${step}: value ${formatValue(value)} was worse than`;
  if (rule === 'successiveHalving') {
    const where = rung === null ? 'its rung' : `rung ${rung}`;
    const cutoff = threshold === null ? `the cutoff of ${where}` : `the cutoff ${formatValue(threshold)} of ${where}`;
    // Successive halving counts the trials recorded at the rung, this one included.
    const among =
      comparedTrials === null ? '' : ` (${comparedTrials} trial${comparedTrials === 1 ? '' : 's'} at that rung)`;
    return `${head} ${cutoff}${among}`;
  }
  if (rule === 'median') {
    const median = threshold === null ? 'the median' : `the median ${formatValue(threshold)}`;
    const of = comparedTrials === null ? 'of completed trials' : `of ${trials(comparedTrials)}`;
    return `${head} ${median} ${of} at that step`;
  }
  const limit =
    threshold === null ? `the ${rule} rule's threshold` : `the ${rule} rule's threshold ${formatValue(threshold)}`;
  return `${head} ${limit}`;
}
