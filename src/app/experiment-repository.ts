/** Experiments as the generic repository sees them. */
import {
  EXPERIMENT_EVENT_SCHEMA_VERSION,
  experimentEventSchemas,
  experimentStreamId,
  parseExperimentEvent,
  type ExperimentEvent,
  type NewExperimentEvent,
} from '../domain/experiment/events.js';
import { evolveExperiment, type ExperimentState } from '../domain/experiment/state.js';
import type { EventStore } from '../store/port.js';
import { Repository } from './repository.js';

export type ExperimentRepository = Repository<ExperimentState, ExperimentEvent, NewExperimentEvent>;

export function experimentRepository(store: EventStore, cacheBytes?: number): ExperimentRepository {
  return new Repository(
    store,
    {
      streamId: experimentStreamId,
      parse: parseExperimentEvent,
      evolve: evolveExperiment,
      schemas: experimentEventSchemas,
      schemaVersion: () => EXPERIMENT_EVENT_SCHEMA_VERSION,
    },
    { cacheBytes },
  );
}
