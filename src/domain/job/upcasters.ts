/**
 * Job event versions and the upcasters that lift older shapes to the current
 * one. Every reader (the domain, projections, history, export) parses through
 * the job kind (./kind.ts), which upcasts first, so an old log replays as it always did.
 *
 * - JobCreated v1 had no PBT lineage, trial slot or scheduler decision.
 * - JobClaimed v1 had no lease duration or takeover record: the duration is
 *   what the lease was granted for, its expiry minus the claim's time.
 * - JobPruned v1 had no threshold, trial count or rung: they were not recorded,
 *   and are not made up afterwards (null), since the trials completed since
 *   would give other numbers than the rule decided on.
 */
import type { Upcaster } from '../aggregate-kind.js';
import type { JobEventType } from './events.js';

export const JOB_EVENT_VERSIONS: Partial<Record<JobEventType, number>> = { JobCreated: 2, JobClaimed: 2, JobPruned: 2 };

export const JOB_UPCASTERS: Partial<Record<JobEventType, Record<number, Upcaster>>> = {
  JobCreated: {
    1: (data) => ({ generation: 0, parentId: null, trialIndex: null, decision: null, ...data }),
  },
  JobClaimed: {
    1: (data, timestamp) => ({
      takenOverFrom: null,
      leaseSeconds: Math.max(1, Math.round((Date.parse(String(data.leaseExpiresAt)) - Date.parse(timestamp)) / 1000)),
      ...data,
    }),
  },
  JobPruned: {
    1: (data) => ({ threshold: null, comparedTrials: null, rung: null, ...data }),
  },
};
