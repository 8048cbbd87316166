/**
 * A training mapping's pure decisions as specifications: given the mapping's
 * past events, when the registry lists these algorithms, then this migration;
 * and the ids, digests and groups the mapping commands rely on.
 */
import { describe, expect, it } from 'vitest';
import type { NewMappingEvent, NewTrainingSetEvent } from '../../src/domain/mapping/events.js';
import {
  creationJobId,
  evolveMapping,
  evolveTrainingSet,
  groupsSharingJobs,
  inputDigest,
  mappingJobId,
  migrationFor,
  type MappingState,
  type TrainingSet,
} from '../../src/domain/mapping/mapping.js';
import { at, deciderSpec, stateAfter } from '../helpers/decider-spec.js';

const MAPPING = 'map_1';
const mapping = {
  decide: (state: MappingState | undefined, registered: Record<string, number>) => migrationFor(state!, registered),
  evolve: evolveMapping,
  initialState: undefined as MappingState | undefined,
};
const { given } = deciderSpec(mapping);

const created = (jobs: Record<string, { jobId: string; algorithmVersion: number }>): NewMappingEvent => ({
  type: 'MappingCreated',
  data: {
    mappingId: MAPPING,
    entityId: 'lesson',
    entityVersion: 1,
    stateName: 'S',
    interactionId: 'TextInput',
    jobs,
    carriedFrom: null,
    trainingDataFrom: Object.values(jobs)[0]?.jobId ?? 'job_first',
    inputDigest: 'digest',
  },
});
const added = (algorithmId: string, jobId: string, algorithmVersion = 1): NewMappingEvent => ({
  type: 'MappingJobAdded',
  data: { algorithmId, jobId, algorithmVersion },
});
const upgraded = (
  algorithmId: string,
  jobId: string,
  fromVersion: number,
  algorithmVersion: number,
): NewMappingEvent => ({
  type: 'MappingJobUpgraded',
  data: { algorithmId, jobId, fromVersion, algorithmVersion },
});
const removed = (algorithmId: string, jobId: string): NewMappingEvent => ({
  type: 'MappingJobRemoved',
  data: { algorithmId, jobId },
});

describe('migrating a mapping to the registry', () => {
  const withA = created({ A: { jobId: 'job_a', algorithmVersion: 1 } });

  it('given a mapping in line with the registry, when migrated, then no change', () => {
    given([withA]).when({ A: 1 }).then([]);
  });

  it('given a mapping, when the registry has an algorithm it lacks, then ADD with the first job id for that algorithm', () => {
    given([withA])
      .when({ A: 1, B: 2 })
      .then([{ action: 'ADD', algorithmId: 'B', algorithmVersion: 2, jobId: mappingJobId(MAPPING, 'B', 1) }]);
  });

  it('given a mapping, when the registry has a newer version of its algorithm, then UPGRADE of the same job', () => {
    given([withA])
      .when({ A: 3 })
      .then([{ action: 'UPGRADE', algorithmId: 'A', algorithmVersion: 3, fromVersion: 1, jobId: 'job_a' }]);
  });

  it('given a mapping at a newer version than the registry lists, when migrated, then no change: nothing goes back', () => {
    given([created({ A: { jobId: 'job_a', algorithmVersion: 4 } })])
      .when({ A: 3 })
      .then([]);
  });

  it('given a mapping, when its algorithm is no longer registered, then REMOVE of its job', () => {
    given([withA])
      .when({})
      .then([{ action: 'REMOVE', algorithmId: 'A', jobId: 'job_a' }]);
  });

  it('given several differences, then the registered algorithms by id first, then the removals by id', () => {
    given([created({ Z: { jobId: 'job_z', algorithmVersion: 1 }, M: { jobId: 'job_m', algorithmVersion: 1 } })])
      .when({ M: 2, B: 1 })
      .then([
        { action: 'ADD', algorithmId: 'B', algorithmVersion: 1, jobId: mappingJobId(MAPPING, 'B', 1) },
        { action: 'UPGRADE', algorithmId: 'M', algorithmVersion: 2, fromVersion: 1, jobId: 'job_m' },
        { action: 'REMOVE', algorithmId: 'Z', jobId: 'job_z' },
      ]);
  });

  it('given an algorithm removed from the mapping, when it is registered again, then ADD with a new job: the second for it', () => {
    given([withA, removed('A', 'job_a')])
      .when({ A: 1 })
      .then([{ action: 'ADD', algorithmId: 'A', algorithmVersion: 1, jobId: mappingJobId(MAPPING, 'A', 2) }]);
  });

  it('given an upgrade recorded, when migrated to the same version, then no change', () => {
    given([withA, upgraded('A', 'job_a', 1, 2)])
      .when({ A: 2 })
      .then([]);
  });
});

describe("the mapping's state, folded from its events", () => {
  it('given a created mapping, then each of its algorithms has been added once', () => {
    expect(stateAfter(mapping, [created({ A: { jobId: 'job_a', algorithmVersion: 1 } })])).toMatchObject({
      id: MAPPING,
      jobs: { A: { jobId: 'job_a', algorithmVersion: 1 } },
      additions: { A: 1 },
    });
  });

  it('given an upgrade in place (the same job), then the job is at the new version and no addition is counted', () => {
    expect(
      stateAfter(mapping, [created({ A: { jobId: 'job_a', algorithmVersion: 1 } }), upgraded('A', 'job_a', 1, 2)]),
    ).toMatchObject({ jobs: { A: { jobId: 'job_a', algorithmVersion: 2 } }, additions: { A: 1 } });
  });

  it("given an upgrade to a job of the mapping's own (the old one shared), then it counts as an addition", () => {
    expect(
      stateAfter(mapping, [created({ A: { jobId: 'job_a', algorithmVersion: 1 } }), upgraded('A', 'job_own', 1, 2)]),
    ).toMatchObject({ jobs: { A: { jobId: 'job_own', algorithmVersion: 2 } }, additions: { A: 2 } });
  });

  it('given a removal, then the job is gone but its additions are still counted (a re-add gets a new job)', () => {
    const state = stateAfter(mapping, [
      created({ A: { jobId: 'job_a', algorithmVersion: 1 } }),
      removed('A', 'job_a'),
      added('B', 'job_b'),
    ]);
    expect(state).toMatchObject({ jobs: { B: { jobId: 'job_b', algorithmVersion: 1 } }, additions: { A: 1, B: 1 } });
  });

  it('given an event before MappingCreated, then the fold refuses it', () => {
    expect(() => stateAfter(mapping, [added('A', 'job_a')])).toThrow(/MappingJobAdded before MappingCreated/);
  });
});

describe('job ids: the same for every racer, different for different work', () => {
  it('the nth job for an algorithm is one id, whoever computes it; the next n is another', () => {
    expect(mappingJobId(MAPPING, 'A', 1)).toBe(mappingJobId(MAPPING, 'A', 1));
    expect(mappingJobId(MAPPING, 'A', 1)).not.toBe(mappingJobId(MAPPING, 'A', 2));
    expect(mappingJobId(MAPPING, 'A', 1)).toMatch(/^job_m[0-9a-f]{31}$/);
  });

  it("a created mapping's job depends on the call's digest: another call's content never adopts it", () => {
    expect(creationJobId(MAPPING, 'A', 'd1')).toBe(creationJobId(MAPPING, 'A', 'd1'));
    expect(creationJobId(MAPPING, 'A', 'd1')).not.toBe(creationJobId(MAPPING, 'A', 'd2'));
  });
});

describe("the digest of a call's state", () => {
  it('does not depend on how the JSON was laid out (object keys in any order)', () => {
    expect(inputDigest({ b: [1, { y: 2, x: 1 }], a: 'z' })).toBe(inputDigest({ a: 'z', b: [1, { x: 1, y: 2 }] }));
  });

  it('differs when the content differs, arrays keeping their order', () => {
    expect(inputDigest({ a: [1, 2] })).not.toBe(inputDigest({ a: [2, 1] }));
  });
});

describe('groups of mappings that share jobs (migrated one after the other)', () => {
  const state = (id: string, jobIds: string[]): MappingState => ({
    id,
    entityId: 'lesson',
    entityVersion: 1,
    stateName: id,
    interactionId: 'TextInput',
    jobs: Object.fromEntries(jobIds.map((jobId, i) => [`alg${i}`, { jobId, algorithmVersion: 1 }])),
    additions: {},
    trainingDataFrom: jobIds[0] ?? '',
    carriedFrom: null,
  });

  it('given mappings that share no job, then each is a group of its own, in order', () => {
    expect(groupsSharingJobs([state('a', ['j1']), state('b', ['j2']), state('c', [])])).toEqual([[0], [1], [2]]);
  });

  it('given a mapping and its carried-forward copy, then they are one group', () => {
    expect(groupsSharingJobs([state('a', ['j1']), state('b', ['j2']), state('a2', ['j1'])])).toEqual([[0, 2], [1]]);
  });

  it('given sharing through a third mapping, then all three are one group, in order within and across groups', () => {
    expect(
      groupsSharingJobs([state('a', ['j1']), state('b', ['j2']), state('c', ['j3']), state('d', ['j3', 'j1'])]),
    ).toEqual([[0, 2, 3], [1]]);
  });
});

describe("an entity version's reserved states", () => {
  const reserved = (stateNames: string[], digests?: Record<string, string>): NewTrainingSetEvent => ({
    type: 'TrainingStatesReserved',
    data: { entityId: 'lesson', entityVersion: 1, stateNames, ...(digests ? { digests } : {}) },
  });
  const trainingSet = { evolve: evolveTrainingSet, initialState: undefined as TrainingSet | undefined };

  it('given a reservation, then each state is reserved since then, with the digest the call gave', () => {
    expect(stateAfter(trainingSet, [reserved(['S1', 'S2'], { S1: 'd1', S2: 'd2' })])).toEqual({
      S1: { at: at(0).toISOString(), digest: 'd1' },
      S2: { at: at(0).toISOString(), digest: 'd2' },
    });
  });

  it('given a reservation from an older log (no digests), then the states are reserved without one', () => {
    expect(stateAfter(trainingSet, [reserved(['S1'])])).toEqual({ S1: { at: at(0).toISOString() } });
  });

  it('given a state reserved again (an abandoned reservation taken over), then the later reservation stands', () => {
    expect(stateAfter(trainingSet, [reserved(['S1'], { S1: 'old' }), reserved(['S1'], { S1: 'new' })])).toEqual({
      S1: { at: at(1).toISOString(), digest: 'new' },
    });
  });
});
