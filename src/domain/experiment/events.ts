/** The experiment's events, one zod schema per type. */
import { z } from 'zod';
import type { EventsOf, NewEventsOf } from '../event-schemas.js';
import { ExperimentSettings } from './settings.js';

export const ExperimentStatus = z.enum(['RUNNING', 'PAUSED', 'DONE']);
export type ExperimentStatus = z.infer<typeof ExperimentStatus>;

export const experimentEventSchemas = {
  ExperimentCreated: z.object({
    experimentId: z.string(),
    /** The settings after defaults; random seeds chosen at creation are recorded here. */
    settings: ExperimentSettings,
  }),
  ExperimentPaused: z.object({}),
  ExperimentResumed: z.object({}),
  ExperimentFinished: z.object({
    /** REQUESTED by a person, STOP_THRESHOLD reached by a job, or the search EXHAUSTED. */
    reason: z.enum(['REQUESTED', 'STOP_THRESHOLD', 'EXHAUSTED']),
    /** The job whose objective reached the threshold. */
    jobId: z.string().nullable(),
  }),
} as const;

export type ExperimentEventType = keyof typeof experimentEventSchemas;
export type ExperimentEventData<T extends ExperimentEventType> = z.infer<(typeof experimentEventSchemas)[T]>;
export type ExperimentEvent = EventsOf<typeof experimentEventSchemas>;
export type NewExperimentEvent = NewEventsOf<typeof experimentEventSchemas>;
