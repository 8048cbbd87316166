/** Experiments as the generic repository sees them. */
import type { ExperimentEvent, NewExperimentEvent } from '../domain/experiment/events.js';
import { experimentKind } from '../domain/experiment/kind.js';
import type { ExperimentState } from '../domain/experiment/state.js';
import type { EventStore } from '../store/port.js';
import { Repository } from './repository.js';

export type ExperimentRepository = Repository<ExperimentState, ExperimentEvent, NewExperimentEvent>;

export function experimentRepository(store: EventStore, cacheBytes?: number): ExperimentRepository {
  return new Repository(store, experimentKind, { cacheBytes });
}
