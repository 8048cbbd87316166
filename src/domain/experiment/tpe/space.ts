/**
 * A search space as TPE models it: each declared distribution becomes a
 * domain (Optuna's Float, Int or Categorical distribution), and each value
 * moves between what a job's hyperparameters hold and what the kernels see
 * (the logarithm on log domains, the choice's index on categorical ones).
 *
 * `normal` and `logNormal` have no Optuna counterpart. The rule: the startup
 * trials draw from them as declared (as RANDOM does); TPE then models the
 * parameter as a float domain over mean ± 4 std (in log space for logNormal),
 * which holds all but 0.006% of the declared distribution, and proposes inside
 * it. A value outside its domain (such a draw, a job added by hand) is not an
 * observation of that parameter. `constant` parameters are not modelled: they
 * always take their value. A choice's weights shape only the startup draws.
 */
import type { Json } from '../../job/events.js';
import { stepsIn } from '../sampling.js';
import type { Distribution } from '../settings.js';
import { roundHalfEven } from './numpy-order.js';
import type { TpeDomain } from './parzen.js';

/** How far a normal's domain reaches, in standard deviations. */
export const NORMAL_DOMAIN_STDS = 4;

/** The domain TPE models a distribution as; null for a constant. */
export function tpeDomainOf(distribution: Distribution): TpeDomain | null {
  const d = distribution;
  if (d.uniform) {
    const { low, high, step } = d.uniform;
    if (step == null) return { kind: 'float', low, high, log: false, step: null };
    return { kind: 'float', low, high: low + (stepsIn(low, high, step) - 1) * step, log: false, step };
  }
  if (d.logUniform) return { kind: 'float', low: d.logUniform.low, high: d.logUniform.high, log: true, step: null };
  if (d.intUniform) {
    const { low, high, step } = d.intUniform;
    return { kind: 'int', low, high: low + (stepsIn(low, high, step) - 1) * step, log: false, step };
  }
  if (d.intLogUniform) return { kind: 'int', low: d.intLogUniform.low, high: d.intLogUniform.high, log: true, step: 1 };
  if (d.normal) {
    const { mean, std } = d.normal;
    const reach = NORMAL_DOMAIN_STDS * std;
    return { kind: 'float', low: mean - reach, high: mean + reach, log: false, step: null };
  }
  if (d.logNormal) {
    const { mean, std } = d.logNormal;
    const reach = NORMAL_DOMAIN_STDS * std;
    return { kind: 'float', low: Math.exp(mean - reach), high: Math.exp(mean + reach), log: true, step: null };
  }
  if (d.choice) return { kind: 'categorical', choices: d.choice.values.length };
  return null;
}

/** The value as the kernels see it, or null when it is not a point of the domain. */
export function internalValue(domain: TpeDomain, distribution: Distribution, value: Json | undefined): number | null {
  if (domain.kind === 'categorical') {
    const wanted = JSON.stringify(value);
    const index = distribution.choice!.values.findIndex((v) => JSON.stringify(v) === wanted);
    return index === -1 ? null : index;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (value < domain.low || value > domain.high) return null;
  if (domain.kind === 'int' && !Number.isInteger(value)) return null;
  return domain.log ? Math.log(value) : value;
}

/** A proposed value (the kernels' scale) as a job's hyperparameter, snapped to its domain as Optuna does. */
export function externalValue(domain: TpeDomain, distribution: Distribution, internal: number): Json {
  if (domain.kind === 'categorical') return distribution.choice!.values[internal]!;
  const value = domain.log ? Math.exp(internal) : internal;
  if (domain.kind !== 'int') return value;
  const { low, high, step } = domain;
  return Math.min(Math.max(low + roundHalfEven((value - low) / step) * step, low), high);
}
