/**
 * Job events as a worker's calls would have recorded them, for tests that
 * write a log straight into the store (as an import does) to measure a
 * server that starts on it.
 */
import { randomUUID } from 'node:crypto';
import { jobKind } from '../../src/domain/job/kind.js';
import { jobData } from '../../src/app/job-ids.js';
import type { NewEvent } from '../../src/store/port.js';

export function rawJobEvent(type: string, data: unknown): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { actor: 'test', correlationId: 'test', causationId: 'test', schemaVersion: jobKind.eventVersion(type) },
  };
}

/** A job created with the contract's defaults, then claimed by worker `w`. */
export function createdAndClaimed(jobId: string, now = new Date().toISOString()): NewEvent[] {
  return [
    rawJobEvent('JobCreated', jobData(jobId, {})),
    rawJobEvent('JobClaimed', {
      workerId: 'w',
      leaseTokenHash: 'h',
      leaseExpiresAt: now,
      leaseSeconds: 300,
      attempt: 1,
      takenOverFrom: null,
    }),
  ];
}
