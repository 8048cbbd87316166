/**
 * A worker-chosen lease token's claim, kept in a stream of its own so that it
 * is unique in the log itself, across server processes and stores: the port
 * appends atomically to one stream only, so a claim first reserves its token
 * (an append the stream's revision fences: of two processes, one wins), then
 * takes a job, then records which one. A resend reads this stream and answers
 * with that job; it never takes a second.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineKind } from '../aggregate-kind.js';
import type { EventsOf, NewEventsOf } from '../event-schemas.js';

/** Keyed by a hash of the token's hash: the stream id gives away nothing the job's events do not. */
export const leaseTokenKey = (leaseTokenHash: string) =>
  createHash('sha256').update(`lease-token:${leaseTokenHash}`).digest('hex').slice(0, 40);

export const leaseTokenEventSchemas = {
  /** A claim with this token is taking a job (the worker's id, to find the job should the claim die halfway). */
  LeaseTokenReserved: z.object({ workerId: z.string() }),
  /** The claim took this job (null: none fitted, and the token is free again). */
  LeaseTokenSettled: z.object({ jobId: z.string().nullable(), leaseExpiresAt: z.string().nullable() }),
} as const;

export type LeaseTokenEvent = EventsOf<typeof leaseTokenEventSchemas>;
export type NewLeaseTokenEvent = NewEventsOf<typeof leaseTokenEventSchemas>;

export type LeaseTokenState =
  | { status: 'reserved'; workerId: string; at: string }
  | { status: 'claimed'; jobId: string; leaseExpiresAt: string }
  | { status: 'free' };

export function evolveLeaseToken(_state: LeaseTokenState | undefined, event: LeaseTokenEvent): LeaseTokenState {
  if (event.type === 'LeaseTokenReserved')
    return { status: 'reserved', workerId: event.data.workerId, at: event.timestamp };
  const { jobId, leaseExpiresAt } = event.data;
  return jobId === null || leaseExpiresAt === null ? { status: 'free' } : { status: 'claimed', jobId, leaseExpiresAt };
}

/** Lease tokens as an aggregate kind: streams `leasetoken-<leaseTokenKey>`. */
export const leaseTokenKind = defineKind<typeof leaseTokenEventSchemas, LeaseTokenState>({
  name: 'leaseToken',
  article: 'a lease-token',
  category: 'leasetoken',
  schemas: leaseTokenEventSchemas,
  initialState: undefined,
  evolve: evolveLeaseToken,
});
