/**
 * The algorithm registry (one stream), the training mappings (one stream per
 * entity version and state) and the training sets (one stream per entity
 * version, reserving its state names) as aggregate kinds.
 */
import { defineKind } from '../aggregate-kind.js';
import { mappingEventSchemas, registryEventSchemas, trainingSetEventSchemas } from './events.js';
import { evolveMapping, evolveTrainingSet, type MappingState, type TrainingSet } from './mapping.js';
import { evolveRegistry, type Registry } from './registry.js';

export const registryKind = defineKind<typeof registryEventSchemas, Registry>({
  name: 'registry',
  article: 'a registry',
  category: 'registry',
  onlyId: 'algorithms',
  schemas: registryEventSchemas,
  initialState: undefined,
  evolve: evolveRegistry,
});

export const mappingKind = defineKind<typeof mappingEventSchemas, MappingState>({
  name: 'mapping',
  article: 'a mapping',
  category: 'mapping',
  schemas: mappingEventSchemas,
  initialState: undefined,
  evolve: evolveMapping,
});

export const trainingSetKind = defineKind<typeof trainingSetEventSchemas, TrainingSet>({
  name: 'trainingSet',
  article: 'a training-set',
  category: 'trainingset',
  schemas: trainingSetEventSchemas,
  initialState: undefined,
  evolve: evolveTrainingSet,
});
