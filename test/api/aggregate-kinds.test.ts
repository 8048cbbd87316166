/**
 * The aggregate kind registry (src/domain/kinds.ts) as specifications: each
 * kind's streams and events are its own, its stream ids invert, every event
 * type it declares parses at its current version, older job events upcast,
 * and `trialog verify` knows every registered kind (the access keys were once
 * missing from its own hand-written list).
 */
import { jobData } from '../../src/app/job-ids.js';
import { openReadModelDb } from '../../src/read-model-db.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentShape } from '../../src/app/event-shapes.js';
import { verifyLog } from '../../src/cli/log-commands.js';
import { AGGREGATE_KINDS, kindOfEventType, kindOfStream } from '../../src/domain/kinds.js';
import { LOG_CATEGORIES } from '../../src/domain/log-categories.js';
import { jobKind } from '../../src/domain/job/kind.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
afterAll(() => dir.remove());

const T = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:05:00.000Z';

/** One valid event of every type Trialog records, in its current shape. A new type needs a line here. */
const SAMPLES: Record<string, unknown> = {
  JobCreated: jobData('job_1', { hyperparameters: { lr: 0.1 } }),
  JobClaimed: {
    workerId: 'w',
    leaseTokenHash: 'h',
    leaseExpiresAt: LATER,
    leaseSeconds: 300,
    attempt: 1,
    takenOverFrom: null,
  },
  JobHeartbeat: { leaseExpiresAt: LATER, progress: 0.5 },
  JobMetricsReported: { points: [{ name: 'loss', step: 1, value: 0.5, timestamp: T }], sequence: 1, digest: 'd' },
  JobLogAppended: { stream: 'STDOUT', firstOffset: 0, lines: ['hello'], sequence: 2, digest: 'd' },
  JobCompleted: { result: { loss: 0.1 }, artifacts: [] },
  JobFailed: { error: 'boom', requeued: false },
  JobReleased: { reason: null },
  JobCancelled: { reason: null, from: 'QUEUED' },
  JobRungsReached: { rungs: [{ rung: 0, value: 0.5 }] },
  JobPruned: { rule: 'median', step: 1, value: 0.5, threshold: 0.4, comparedTrials: 5, rung: null },
  JobRetrained: { from: 'SUCCEEDED', fromVersion: 1, algorithmVersion: 2 },
  JobRetried: { from: 'FAILED', maxAttempts: 4 },
  ExperimentCreated: { experimentId: 'exp_1', settings: { name: 'search', scheduler: { manual: {} } } },
  ExperimentPaused: {},
  ExperimentResumed: {},
  ExperimentFinished: { reason: 'REQUESTED', jobId: null },
  ApiKeyCreated: { keyId: '0000000000000001', name: 'alice', role: 'viewer', secretHash: 'h' },
  ApiKeyRevoked: { keyId: '0000000000000001' },
  LeaseTokenReserved: { workerId: 'w' },
  LeaseTokenSettled: { jobId: 'job_1', leaseExpiresAt: LATER },
  AlgorithmRegistered: { interactionId: 'i', algorithmId: 'a', algorithmVersion: 1, previousVersion: null },
  AlgorithmRetired: { interactionId: 'i', algorithmId: 'a' },
  MappingCreated: {
    mappingId: 'map_1',
    entityId: 'e',
    entityVersion: 1,
    stateName: 's',
    interactionId: 'i',
    jobs: { a: { jobId: 'job_1', algorithmVersion: 1 } },
    carriedFrom: null,
    trainingDataFrom: 'job_1',
    inputDigest: 'd',
  },
  MappingJobAdded: { algorithmId: 'b', jobId: 'job_2', algorithmVersion: 1 },
  MappingJobUpgraded: { algorithmId: 'a', jobId: 'job_3', fromVersion: 1, algorithmVersion: 2 },
  MappingJobRemoved: { algorithmId: 'b', jobId: 'job_2' },
  TrainingStatesReserved: { entityId: 'e', entityVersion: 1, stateNames: ['s'], digests: { s: 'd' } },
};

const recorded = (streamId: string, type: string, data: unknown, schemaVersion = 1): RecordedEvent => ({
  id: `${streamId}-${type}`,
  streamId,
  type,
  data,
  metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion },
  revision: 0n,
  position: '1',
  timestamp: T,
});

/** A stream id of the kind: its one stream, or one of many. */
const aStreamOf = (kind: (typeof AGGREGATE_KINDS)[number]) => kind.streamId(kind.onlyId ?? 'x_1');

describe('the aggregate kind registry', () => {
  it('given every registered kind, then each stream category and each event type belongs to exactly one', () => {
    const categories = AGGREGATE_KINDS.map((kind) => kind.category);
    expect(new Set(categories).size).toBe(categories.length);
    expect([...LOG_CATEGORIES.keys()]).toEqual(categories);
    for (const kind of AGGREGATE_KINDS) {
      for (const type of kind.eventTypes) expect(kindOfEventType(type), type).toBe(kind);
    }
    const types = AGGREGATE_KINDS.flatMap((kind) => kind.eventTypes);
    expect(new Set(types).size).toBe(types.length);
  });

  it.each(AGGREGATE_KINDS.map((kind) => [kind.name, kind] as const))(
    'given the %s kind, when an id becomes a stream id, then idOf gives the id back and the registry finds the kind',
    (_name, kind) => {
      const ids = kind.onlyId === undefined ? ['x_1', 'job_k0123-with-dashes', 'a'] : [kind.onlyId];
      for (const id of ids) {
        const streamId = kind.streamId(id);
        expect(streamId.startsWith(`${kind.category}-`)).toBe(true);
        expect(kind.idOf(streamId)).toBe(id);
        expect(kindOfStream(streamId)).toBe(kind);
      }
    },
  );

  it('given a single-stream kind, then another stream of its category is of no known kind', () => {
    const singles = AGGREGATE_KINDS.filter((kind) => kind.onlyId !== undefined);
    expect(singles.map((kind) => kind.streamId(kind.onlyId!))).toEqual(['access-keys', 'registry-algorithms']);
    for (const kind of singles) expect(kindOfStream(kind.streamId('other'))).toBeUndefined();
    expect(kindOfStream('orders-1')).toBeUndefined();
  });

  it('given a sample of every event type at its current version, when parsed by its kind, then it parses unchanged', () => {
    const types = AGGREGATE_KINDS.flatMap((kind) => kind.eventTypes);
    expect(Object.keys(SAMPLES).sort()).toEqual([...types].sort());
    for (const kind of AGGREGATE_KINDS) {
      for (const type of kind.eventTypes) {
        const event = recorded(aStreamOf(kind), type, SAMPLES[type], kind.eventVersion(type));
        expect(kind.holds(event), type).toBe(true);
        expect(kind.parse(event), type).toMatchObject({ type, timestamp: T });
        expect(currentShape(event), type).toBe(event);
      }
    }
  });

  it("given an event of another kind's type, when parsed, then it is refused", () => {
    const experimentEvent = recorded(jobKind.streamId('job_1'), 'ExperimentPaused', {});
    expect(jobKind.holds(experimentEvent)).toBe(false);
    expect(() => jobKind.parse(experimentEvent)).toThrow('not a job event: ExperimentPaused');
  });

  it('given a JobClaimed recorded at version 1, when read, then it is upcast to the current version everywhere', () => {
    const { leaseSeconds: _, takenOverFrom: __, ...v1 } = SAMPLES.JobClaimed as Record<string, unknown>;
    const old = recorded(jobKind.streamId('job_1'), 'JobClaimed', v1, 1);
    expect(jobKind.eventVersion('JobClaimed')).toBe(2);
    expect(jobKind.recordedVersion(old)).toBe(1);
    expect(jobKind.parse(old).data).toEqual({ ...v1, leaseSeconds: 300, takenOverFrom: null });
    const shown = currentShape(old);
    expect(shown.data).toEqual({ ...v1, leaseSeconds: 300, takenOverFrom: null });
    expect(shown.metadata).toMatchObject({ schemaVersion: 2, storedSchemaVersion: 1 });
  });
});

describe('trialog verify knows every registered kind', () => {
  /** One stream per kind holding its first event type (legal as a stream's first event in every kind). */
  async function logOfEveryKind(path: string, data: (type: string) => unknown) {
    const store = new SqliteEventStore(path);
    for (const kind of AGGREGATE_KINDS) {
      const type = kind.eventTypes[0]!;
      await store.appendToStream(aStreamOf(kind), [
        {
          id: crypto.randomUUID(),
          type,
          data: data(type),
          metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: kind.eventVersion(type) },
        },
      ]);
    }
    const readDb = openReadModelDb(path);
    return {
      store,
      size: async () => AGGREGATE_KINDS.length,
      readModels: () => readDb,
      close: async () => {
        readDb.close();
        await store.close();
      },
    };
  }

  it('given a valid stream of every registered kind, when the log is verified, then there is no problem', async () => {
    const cli = await logOfEveryKind(join(dir.path, 'every-kind.db'), (type) => SAMPLES[type]);
    try {
      const result = await verifyLog(cli);
      expect(result.problems).toEqual([]);
      expect(result.streams).toBe(AGGREGATE_KINDS.length);
      expect(Object.keys(result.byCategory).sort()).toEqual(AGGREGATE_KINDS.map((kind) => kind.category).sort());
    } finally {
      await cli.close();
    }
  });

  it('given a malformed event in a stream of every registered kind, when the log is verified, then each is named', async () => {
    const cli = await logOfEveryKind(join(dir.path, 'every-kind-malformed.db'), () => ({ unexpected: true }));
    try {
      const result = await verifyLog(cli);
      expect(result.problemCount).toBe(AGGREGATE_KINDS.length);
      for (const kind of AGGREGATE_KINDS) {
        const named = result.problems.find((problem) => problem.startsWith(`${aStreamOf(kind)}@0 `));
        expect(named, kind.name).toContain(kind.eventTypes[0]);
      }
      expect(result.problems.join('\n')).not.toMatch(/no known kind/);
    } finally {
      await cli.close();
    }
  });
});
