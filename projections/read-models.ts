/**
 * Every read model the server keeps, in the order a batch is applied to them.
 * A module of its own so that the thread that applies batches (./apply-thread-worker.ts)
 * builds exactly the list the server does without importing the composition root.
 */
import { accessProjection } from './access-projection.js';
import { experimentsProjection } from './experiments-projection.js';
import { jobsProjection } from './jobs-projection.js';
import { mappingsProjection } from './mappings-projection.js';

// Experiments first: a job's objective is its experiment's, looked up while projecting the job.
export const readModelProjections = [
  experimentsProjection,
  jobsProjection,
  mappingsProjection,
  accessProjection,
] as const;
