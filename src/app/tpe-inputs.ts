/**
 * What a TPE proposal weighs, read from the read models: each trial of the
 * search as Optuna would see it. A job that succeeded with the objective
 * reported is COMPLETE; a pruned job is PRUNED, with the objective's last
 * report; a running job is RUNNING only while its lease is live, so a worker
 * that vanished stops repelling proposals once its lease expires. Failed,
 * cancelled and queued jobs, and a success without the objective, are not
 * weighed (Optuna's FAIL and WAITING).
 */
import type { TpeTrialRow } from '../../projections/experiments-queries.js';
import type { TrialParams } from '../domain/experiment/tpe/propose.js';
import type { TpeTrial } from '../domain/experiment/tpe/split.js';

export function tpeTrialsOf(rows: readonly TpeTrialRow[], now: Date): TpeTrial<TrialParams>[] {
  const at = now.toISOString();
  return rows.flatMap((row): TpeTrial<TrialParams>[] => {
    const base = { index: row.trialIndex, params: row.hyperparameters, value: null, lastReport: null };
    if (row.status === 'SUCCEEDED' && row.objectiveValue !== null) {
      return [{ ...base, state: 'COMPLETE', value: row.objectiveValue }];
    }
    if (row.status === 'PRUNED') return [{ ...base, state: 'PRUNED', lastReport: row.lastReport }];
    if (row.status === 'RUNNING' && row.leaseExpiresAt !== null && row.leaseExpiresAt > at) {
      return [{ ...base, state: 'RUNNING' }];
    }
    return [];
  });
}
