/** Experiments as an aggregate kind: streams `experiment-<experimentId>`, every event at version 1. */
import { defineKind } from '../aggregate-kind.js';
import { experimentEventSchemas } from './events.js';
import { evolveExperiment, type ExperimentState } from './state.js';

export const experimentKind = defineKind<typeof experimentEventSchemas, ExperimentState>({
  name: 'experiment',
  article: 'an experiment',
  category: 'experiment',
  schemas: experimentEventSchemas,
  initialState: undefined,
  evolve: evolveExperiment,
});
