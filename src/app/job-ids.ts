/**
 * Job ids, lease-token hashes, and the defaults of a job Trialog makes itself:
 * what every path that creates or names a job agrees on (the commands, the
 * claim algorithm, the mappings, and the specifications' fixtures).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JobCommand } from '../domain/job/decide.js';

export type NewJobData = Omit<Extract<JobCommand, { type: 'CreateJob' }>, 'type'>;

/** The contract's defaults for a new job: what a JobCreated records of a field nobody set. */
export const JOB_DEFAULTS: Omit<NewJobData, 'jobId'> = {
  experimentId: null,
  hyperparameters: {},
  params: {},
  algorithmId: null,
  algorithmVersion: null,
  trainingData: null,
  priority: 0,
  labels: [],
  maxAttempts: 3,
  idempotencyKey: null,
  generation: 0,
  parentId: null,
  trialIndex: null,
  decision: null,
};

/** A job made by Trialog itself (a trial, a mapping's job): the contract's defaults, then what it sets. */
export function jobData(jobId: string, fields: Partial<NewJobData>): NewJobData {
  return { jobId, ...JOB_DEFAULTS, ...fields };
}

/** Job ids: random, or derived from an idempotency key so a retried create finds the first job. */
export function newJobId(idempotencyKey: string | null): string {
  if (idempotencyKey === null) return `job_${randomUUID().replaceAll('-', '')}`;
  return `job_k${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

/** A trial's job id is derived from its slot: racing creators of one slot meet on one stream. */
export const trialJobId = (experimentId: string, index: number) =>
  `job_t${createHash('sha256').update(`${experimentId}:${index}`).digest('hex').slice(0, 31)}`;

/** Only the hash of a lease token is recorded: the log never holds a credential. */
export const hashLeaseToken = (token: string) => createHash('sha256').update(token).digest('hex');
