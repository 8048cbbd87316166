/**
 * Which trial comes next. A trial is a slot index 0, 1, 2…; its job id is
 * derived from (experiment, index), so two claimers racing for the same slot
 * meet on the same stream and the loser moves on: no index is used twice and
 * no more than the limit are ever created.
 */
import type { Json } from '../job/events.js';
import { sampleSpace } from './sampling.js';
import type { ExperimentSettings } from './settings.js';

export type SchedulerKind = 'MANUAL' | 'RANDOM' | 'GRID' | 'PBT' | 'TPE';

export function schedulerKind(settings: ExperimentSettings): SchedulerKind {
  const s = settings.scheduler;
  if (s.random) return 'RANDOM';
  if (s.grid) return 'GRID';
  if (s.pbt) return 'PBT';
  if (s.tpe) return 'TPE';
  return 'MANUAL';
}

export function gridSize(settings: ExperimentSettings): number | null {
  return settings.scheduler.grid ? settings.scheduler.grid.space.reduce((n, p) => n * p.values.length, 1) : null;
}

/** How many trials the experiment may ever have (null: no limit). */
export function maxJobs(settings: ExperimentSettings): number | null {
  const s = settings.scheduler;
  if (s.random) return s.random.maxJobs;
  if (s.tpe) return s.tpe.maxJobs;
  if (s.grid) return gridSize(settings);
  if (s.manual) return s.manual.maxJobs;
  if (s.pbt) return s.pbt.maxGenerations === null ? null : s.pbt.populationSize * s.pbt.maxGenerations;
  return null;
}

/**
 * The hyperparameters of trial `index`, or null when the scheduler has none
 * for it: past the limit, or a scheduler whose trials depend on the others'
 * results (PBT, TPE: see their modules).
 */
export function trialAt(settings: ExperimentSettings, index: number): Record<string, Json> | null {
  const limit = maxJobs(settings);
  if (limit !== null && index >= limit) return null;
  const s = settings.scheduler;
  if (s.random) return sampleSpace(s.random.space, s.random.seed!, index);
  if (s.grid) {
    // Mixed radix over the declared order: the last parameter varies fastest.
    const values: Record<string, Json> = {};
    let rest = index;
    for (let i = s.grid.space.length - 1; i >= 0; i--) {
      const parameter = s.grid.space[i]!;
      values[parameter.name] = parameter.values[rest % parameter.values.length]!;
      rest = Math.floor(rest / parameter.values.length);
    }
    return Object.fromEntries(s.grid.space.map((p) => [p.name, values[p.name]!]));
  }
  return null;
}
