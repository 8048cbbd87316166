/**
 * The job's upcasters as specifications: given an event recorded in an older
 * version, when it is read, then the domain sees the current shape; and the
 * audit API and export show it so, saying which version was stored.
 */
import { describe, expect, it } from 'vitest';
import { currentMetadata, currentShape } from '../../src/app/event-shapes.js';
import { jobKind } from '../../src/domain/job/kind.js';
import { JOB_EVENT_VERSIONS } from '../../src/domain/job/upcasters.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { at } from '../helpers/decider-spec.js';

const CLAIMED_AT = at(0).toISOString();

/** An event as read from the store, with the version its metadata records (none: written before versions were). */
const stored = (type: string, data: unknown, schemaVersion?: number) => ({
  type,
  data,
  timestamp: CLAIMED_AT,
  metadata: schemaVersion === undefined ? {} : { schemaVersion },
});

const recorded = (type: string, data: unknown, schemaVersion: number): RecordedEvent => ({
  id: 'e1',
  streamId: 'job-job_1',
  revision: 3n,
  position: '4',
  type,
  data,
  timestamp: CLAIMED_AT,
  metadata: {
    actor: 'a',
    correlationId: 'c',
    causationId: 'c',
    schemaVersion,
  },
});

const createdV1 = {
  jobId: 'job_1',
  experimentId: null,
  hyperparameters: { lr: 0.1 },
  params: {},
  algorithmId: null,
  algorithmVersion: null,
  trainingData: null,
  priority: 0,
  labels: [],
  maxAttempts: 3,
  idempotencyKey: null,
};
const claimedV1 = {
  workerId: 'w1',
  leaseTokenHash: 'hash',
  leaseExpiresAt: at(90).toISOString(),
  attempt: 1,
};
const prunedV1 = { rule: 'successiveHalving', step: 4, value: 0.7 };

describe('the versions a job event is written in', () => {
  it('JobCreated, JobClaimed and JobPruned are at version 2; every other type at version 1', () => {
    expect(JOB_EVENT_VERSIONS).toEqual({ JobCreated: 2, JobClaimed: 2, JobPruned: 2 });
    expect(jobKind.eventVersion('JobCompleted')).toBe(1);
  });
});

describe('JobCreated version 1 (before PBT lineage, trial slots and scheduler decisions)', () => {
  it('given a v1 JobCreated, when read, then it is generation 0 with no parent, no trial slot and no decision', () => {
    expect(jobKind.parse(stored('JobCreated', createdV1, 1)).data).toEqual({
      ...createdV1,
      generation: 0,
      parentId: null,
      trialIndex: null,
      decision: null,
    });
  });
});

describe('JobClaimed version 1 (before lease durations and takeovers were recorded)', () => {
  it('given a v1 JobClaimed, when read, then its lease duration is its expiry minus its time, and it took over nobody', () => {
    expect(jobKind.parse(stored('JobClaimed', claimedV1, 1)).data).toEqual({
      ...claimedV1,
      leaseSeconds: 90,
      takenOverFrom: null,
    });
  });

  it('given a v1 JobClaimed whose lease expired when it was recorded, when read, then its lease duration is one second, not zero or less', () => {
    const expired = { ...claimedV1, leaseExpiresAt: CLAIMED_AT };
    expect(
      jobKind.upcast({ type: 'JobClaimed', data: expired, timestamp: CLAIMED_AT, metadata: { schemaVersion: 1 } }),
    ).toMatchObject({ leaseSeconds: 1 });
  });
});

describe('JobPruned version 1 (before the numbers the rule decided on were recorded)', () => {
  it('given a v1 JobPruned, when read, then threshold, trial count and rung are null: not made up afterwards', () => {
    expect(jobKind.parse(stored('JobPruned', prunedV1, 1)).data).toEqual({
      ...prunedV1,
      threshold: null,
      comparedTrials: null,
      rung: null,
    });
  });

  it('given a v2 JobPruned, when read, then its numbers are the ones recorded', () => {
    const v2 = { ...prunedV1, threshold: 0.5, comparedTrials: 9, rung: 2 };
    expect(jobKind.parse(stored('JobPruned', v2, 2)).data).toEqual(v2);
  });

  it('given a v1 JobPruned claimed as version 2, when read, then it is refused: no silent default', () => {
    expect(() => jobKind.parse(stored('JobPruned', prunedV1, 2))).toThrow();
  });
});

describe('events without a recorded version', () => {
  it('given a JobPruned with no schemaVersion, when read, then it is taken as the current version (and so must have its fields)', () => {
    expect(() => jobKind.parse(stored('JobPruned', prunedV1))).toThrow();
    const v2 = { ...prunedV1, threshold: 0.5, comparedTrials: 9, rung: 2 };
    expect(jobKind.parse(stored('JobPruned', v2)).data).toEqual(v2);
  });

  it('given a type that never changed, when read at version 1, then its data is as recorded', () => {
    const data = { result: null, artifacts: [] };
    expect(jobKind.parse(stored('JobCompleted', data, 1)).data).toEqual(data);
  });
});

describe('a version no upcaster starts from', () => {
  it('given a JobCreated claimed as version 0, when upcast, then it is refused naming the type and version', () => {
    expect(() =>
      jobKind.upcast({ type: 'JobCreated', data: createdV1, timestamp: CLAIMED_AT, metadata: { schemaVersion: 0 } }),
    ).toThrow(/no upcaster for JobCreated version 0/);
  });
});

describe('the current shape, as the audit API and export show it', () => {
  it('given a v1 event, then its data is upcast and its metadata says the current version and the version stored', () => {
    expect(currentShape(recorded('JobPruned', prunedV1, 1))).toMatchObject({
      data: { ...prunedV1, threshold: null, comparedTrials: null, rung: null },
      metadata: { schemaVersion: 2, storedSchemaVersion: 1, actor: 'a', correlationId: 'c' },
    });
  });

  it('given an event at the current version, then it is shown as stored', () => {
    const event = recorded('JobPruned', { ...prunedV1, threshold: 0.5, comparedTrials: 9, rung: 2 }, 2);
    expect(currentShape(event)).toBe(event);
  });

  it("given another aggregate's event, then it is shown as stored", () => {
    const event = recorded('ExperimentPaused', {}, 1);
    expect(currentShape(event)).toBe(event);
  });

  it('given a page read without data, then the metadata reports the versions as currentShape does', () => {
    expect(currentMetadata(recorded('JobClaimed', claimedV1, 1))).toMatchObject({
      schemaVersion: 2,
      storedSchemaVersion: 1,
    });
  });
});
