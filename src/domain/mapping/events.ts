/** The algorithm registry's and the training mappings' events, one zod schema per type. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EventsOf, NewEventsOf } from '../event-schemas.js';

/** A mapping's id is derived from its key, so "no stream" is the key's reservation. */
export function mappingId(entityId: string, entityVersion: number, stateName: string): string {
  return `map_${createHash('sha256')
    .update(JSON.stringify([entityId, entityVersion, stateName]))
    .digest('hex')
    .slice(0, 32)}`;
}

/** One stream per entity version reserves its state names, so a call creating mappings is all or nothing against rivals. */
export const trainingSetId = (entityId: string, entityVersion: number) =>
  `ts_${createHash('sha256')
    .update(JSON.stringify([entityId, entityVersion]))
    .digest('hex')
    .slice(0, 32)}`;

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
    /**
     * A digest of the state as the creating call gave it: the same call retried (after a crash, say)
     * recognises the mapping as its own work. Absent in older logs.
     */
    inputDigest: z.string().nullish(),
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
  TrainingStatesReserved: z.object({
    entityId: z.string(),
    entityVersion: z.number().int(),
    stateNames: z.array(z.string()),
    /** State name -> digest of what the call gave for it: a call with the same resumes the work at once. */
    digests: z.record(z.string(), z.string()).optional(),
  }),
} as const;

export type RegistryEvent = EventsOf<typeof registryEventSchemas>;
export type NewRegistryEvent = NewEventsOf<typeof registryEventSchemas>;
export type MappingEvent = EventsOf<typeof mappingEventSchemas>;
export type NewMappingEvent = NewEventsOf<typeof mappingEventSchemas>;
export type TrainingSetEvent = EventsOf<typeof trainingSetEventSchemas>;
export type NewTrainingSetEvent = NewEventsOf<typeof trainingSetEventSchemas>;
