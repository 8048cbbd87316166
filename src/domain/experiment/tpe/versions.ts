/**
 * Which Optuna release a TPE search follows. 4.6 is the default (the
 * algorithm Optuna 4.0 to 4.6 share); the later ones each change the
 * estimator in one way, and every proposal records the version it used, so
 * a replay or an auditor knows which rule chose it.
 *
 * - optuna-4.7: integer log domains get a discrete kernel, each value's mass
 *   in log space, instead of a continuous density (Optuna #6258).
 * - optuna-4.9: as 4.7, and the prior's mean is no longer a neighbour when
 *   each kernel's bandwidth is set (Optuna c1267c3).
 *
 * 4.8 decides as 4.7 does.
 */
import { DEFAULT_PARZEN_OPTIONS, type ParzenOptions } from './parzen.js';

export const TPE_VERSIONS = ['optuna-4.6', 'optuna-4.7', 'optuna-4.9'] as const;
export type TpeVersion = (typeof TPE_VERSIONS)[number];
export const DEFAULT_TPE_VERSION: TpeVersion = 'optuna-4.6';

/** The estimator's options for a version. */
export function parzenOptionsOf(version: TpeVersion, multivariate: boolean): ParzenOptions {
  return {
    ...DEFAULT_PARZEN_OPTIONS,
    multivariate,
    logIntegerMass: version !== 'optuna-4.6',
    priorInBandwidth: version !== 'optuna-4.9',
  };
}
