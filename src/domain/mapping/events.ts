/** The algorithm registry's and the training mappings' events, one zod schema per type. */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const REGISTRY_STREAM_ID = 'registry-algorithms';
export const MAPPING_STREAM_CATEGORY = 'mapping';
export const MAPPING_EVENT_SCHEMA_VERSION = 1;

/** A mapping's id is derived from its key, so "no stream" is the key's reservation. */
export function mappingId(entityId: string, entityVersion: number, stateName: string): string {
  return `map_${createHash('sha256').update(JSON.stringify([entityId, entityVersion, stateName])).digest('hex').slice(0, 32)}`;
}
export const mappingStreamId = (id: string) => `${MAPPING_STREAM_CATEGORY}-${id}`;

/** One stream per entity version reserves its state names, so a call creating mappings is all or nothing against rivals. */
export const TRAINING_SET_CATEGORY = 'trainingset';
export const trainingSetId = (entityId: string, entityVersion: number) =>
  `ts_${createHash('sha256').update(JSON.stringify([entityId, entityVersion])).digest('hex').slice(0, 32)}`;
export const trainingSetStreamId = (id: string) => `${TRAINING_SET_CATEGORY}-${id}`;

const MappedJob = z.object({ jobId: z.string(), algorithmVersion: z.number().int() });

export const registryEventSchemas = {
  AlgorithmRegistered: z.object({
    interactionId: z.string(),
    algorithmId: z.string(),
    algorithmVersion: z.number().int(),
    /** The version it replaced, when it upgraded one. */
    previousVersion: z.number().int().nullable(),
  }),
  AlgorithmRetired: z.object({ interactionId: z.string(), algorithmId: z.string() }),
} as const;

export const mappingEventSchemas = {
  MappingCreated: z.object({
    mappingId: z.string(),
    entityId: z.string(),
    entityVersion: z.number().int(),
    stateName: z.string(),
    interactionId: z.string(),
    /** algorithmId -> the job that trains its model. */
    jobs: z.record(z.string(), MappedJob),
    /** Set when the mapping was carried forward from an earlier version's state. */
    carriedFrom: z.object({ entityVersion: z.number().int(), stateName: z.string() }).nullable(),
    /** The job whose training data a job added later (a new algorithm) trains on. */
    trainingDataFrom: z.string(),
  }),
  MappingJobAdded: z.object({ algorithmId: z.string(), jobId: z.string(), algorithmVersion: z.number().int() }),
  MappingJobUpgraded: z.object({
    algorithmId: z.string(),
    jobId: z.string(),
    fromVersion: z.number().int(),
    algorithmVersion: z.number().int(),
  }),
  MappingJobRemoved: z.object({ algorithmId: z.string(), jobId: z.string() }),
} as const;

export const trainingSetEventSchemas = {
  /** These states of the entity version are taken by one call that is creating their mappings. */
  TrainingStatesReserved: z.object({ entityId: z.string(), entityVersion: z.number().int(), stateNames: z.array(z.string()) }),
} as const;

type Events<S extends Record<string, z.ZodType>> = {
  [T in keyof S & string]: { type: T; data: z.infer<S[T]>; timestamp: string };
}[keyof S & string];
type NewEvents<S extends Record<string, z.ZodType>> = {
  [T in keyof S & string]: { type: T; data: z.infer<S[T]> };
}[keyof S & string];

export type RegistryEvent = Events<typeof registryEventSchemas>;
export type NewRegistryEvent = NewEvents<typeof registryEventSchemas>;
export type MappingEvent = Events<typeof mappingEventSchemas>;
export type TrainingSetEvent = Events<typeof trainingSetEventSchemas>;
export type NewTrainingSetEvent = NewEvents<typeof trainingSetEventSchemas>;
export type NewMappingEvent = NewEvents<typeof mappingEventSchemas>;

export function parseRegistryEvent(event: { type: string; data: unknown; timestamp: string }): RegistryEvent {
  const schema = (registryEventSchemas as Record<string, z.ZodType>)[event.type];
  if (!schema) throw new TypeError(`not a registry event: ${event.type}`);
  return { type: event.type, data: schema.parse(event.data), timestamp: event.timestamp } as RegistryEvent;
}

export function parseMappingEvent(event: { type: string; data: unknown; timestamp: string }): MappingEvent {
  const schema = (mappingEventSchemas as Record<string, z.ZodType>)[event.type];
  if (!schema) throw new TypeError(`not a mapping event: ${event.type}`);
  return { type: event.type, data: schema.parse(event.data), timestamp: event.timestamp } as MappingEvent;
}

export function parseTrainingSetEvent(event: { type: string; data: unknown; timestamp: string }): TrainingSetEvent {
  if (event.type !== 'TrainingStatesReserved') throw new TypeError(`not a training-set event: ${event.type}`);
  return { type: event.type, data: trainingSetEventSchemas.TrainingStatesReserved.parse(event.data), timestamp: event.timestamp };
}

export const isMappingEventType = (type: string) => Object.hasOwn(mappingEventSchemas, type);
export const isRegistryEventType = (type: string) => Object.hasOwn(registryEventSchemas, type);
