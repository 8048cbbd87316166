/**
 * Training mappings over real HTTP: the registry, creating training jobs per
 * state, training them through the worker mutations, trainedModel, carrying
 * mappings forward, and migrating them when the registry changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLETE } from '../helpers/jobs.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { errorCode, ok, startTestServer, type Gql, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

const REGISTER = `mutation($i: RegisterAlgorithmInput!) { registerAlgorithm(input: $i) { interactionId algorithmId algorithmVersion } }`;
const RETIRE = `mutation($i: RetireAlgorithmInput!) { retireAlgorithm(input: $i) { algorithmId } }`;
const MAPPING_FIELDS = `entityId entityVersion stateName interactionId carriedFrom
  jobs { algorithmId job { id status algorithmId algorithmVersion trainingData attempts result } }`;
const CREATE = `mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { ${MAPPING_FIELDS} } }`;
const CARRY = `mutation($i: CarryMappingsForwardInput!) { carryMappingsForward(input: $i) { ${MAPPING_FIELDS} } }`;
const MIGRATE = `mutation($i: MigrateMappingsInput!) { migrateMappings(input: $i) { examined dryRun changes { entityId entityVersion stateName algorithmId action jobId } } }`;
const MAPPING = `query($e: String!, $v: Int!, $s: String!) { mapping(entityId: $e, entityVersion: $v, stateName: $s) { ${MAPPING_FIELDS}
  history { edges { node { type data } } } } }`;
const TRAINED = `query($e: String!, $v: Int!, $s: String!, $a: String) { trainedModel(entityId: $e, entityVersion: $v, stateName: $s, algorithmId: $a) {
  id status result artifacts { name uri } } }`;

const register = (gql: Gql, interactionId: string, algorithmId: string, algorithmVersion: number) =>
  gql(REGISTER, { i: { interactionId, algorithmId, algorithmVersion } });

/** A worker that trains every queued job of one algorithm. */
async function trainAll(gql: Gql, algorithmId: string, result: (job: any) => Record<string, unknown>): Promise<number> {
  let trained = 0;
  for (;;) {
    const c = ok(
      await gql(
        `mutation($a: [String!]) { claimJob(input: { workerId: "trainer", algorithmIds: $a }) { leaseToken job { id trainingData algorithmVersion } } }`,
        {
          a: [algorithmId],
        },
      ),
    ).claimJob;
    if (!c) return trained;
    ok(
      await gql(COMPLETE, {
        input: {
          jobId: c.job.id,
          leaseToken: c.leaseToken,
          result: result(c.job),
          artifacts: [{ name: 'model', uri: `file:///models/${c.job.id}.bin` }],
        },
      }),
    );
    trained++;
  }
}

describe('the algorithm registry', () => {
  const listed = async (interaction: string) =>
    ok(await t.gql(`{ algorithms { interactionId algorithmId algorithmVersion } }`)).algorithms.filter(
      (a: any) => a.interactionId === interaction,
    );

  it('when an algorithm is registered and then upgraded, then algorithms lists it at its latest version', async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TextClassifier', 1));
    ok(await register(t.gql, interaction, 'TextClassifier', 2));
    expect(await listed(interaction)).toEqual([
      { interactionId: interaction, algorithmId: 'TextClassifier', algorithmVersion: 2 },
    ]);
  });

  it('given version 1, when version 1 is registered again, then it answers and nothing changes', async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TextClassifier', 1));
    ok(await register(t.gql, interaction, 'TextClassifier', 1));
    expect(await listed(interaction)).toEqual([
      { interactionId: interaction, algorithmId: 'TextClassifier', algorithmVersion: 1 },
    ]);
  });

  it('given version 2, when version 1 is registered, then CONFLICT naming version 2', async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TextClassifier', 2));
    const back = await register(t.gql, interaction, 'TextClassifier', 1);
    expect(errorCode(back)).toBe('CONFLICT');
    expect(back.errors![0]!.message).toMatch(/version 2/);
  });

  it("when an interaction's algorithms are retired, then the answer names them and algorithms no longer lists them", async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TextClassifier', 1));
    expect(ok(await t.gql(RETIRE, { i: { interactionId: interaction } })).retireAlgorithm).toEqual([
      { algorithmId: 'TextClassifier' },
    ]);
    expect(await listed(interaction)).toEqual([]);
  });

  it('given an interaction whose algorithms were retired, when they are retired again, then NOT_FOUND', async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TextClassifier', 1));
    ok(await t.gql(RETIRE, { i: { interactionId: interaction } }));
    expect(errorCode(await t.gql(RETIRE, { i: { interactionId: interaction } }))).toBe('NOT_FOUND');
  });
});

describe('creating training jobs', () => {
  it('one job per state; trained through the worker mutations; trainedModel serves the succeeded job', async () => {
    const interaction = unique('MultipleChoice');
    ok(await register(t.gql, interaction, 'MCClassifier', 3));
    const entity = unique('lesson');
    const mappings = ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: [
            { stateName: 'Intro', interactionId: interaction, trainingData: [{ answer: 'a', label: 1 }] },
            { stateName: 'Quiz', interactionId: interaction, trainingData: [{ answer: 'b', label: 0 }] },
          ],
        },
      }),
    ).createTrainingJobs;
    expect(mappings).toHaveLength(2);
    expect(mappings[0].jobs).toEqual([
      {
        algorithmId: 'MCClassifier',
        job: expect.objectContaining({
          status: 'QUEUED',
          algorithmVersion: 3,
          trainingData: [{ answer: 'a', label: 1 }],
        }),
      },
    ]);
    // While it trains there is no model to serve.
    expect(ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'Intro' })).trainedModel).toBeNull();
    expect(await trainAll(t.gql, 'MCClassifier', (job) => ({ accuracy: job.trainingData.length }))).toBe(2);
    const model = ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'Intro', a: 'MCClassifier' })).trainedModel;
    expect(model).toMatchObject({ status: 'SUCCEEDED', result: { accuracy: 1 }, artifacts: [{ name: 'model' }] });
    expect(model.id).toBe(mappings[0].jobs[0].job.id);
    const listed = ok(
      await t.gql(`query($e: String) { mappings(entityId: $e) { edges { node { stateName } } } }`, { e: entity }),
    ).mappings;
    expect(listed.edges.map((e: any) => e.node.stateName)).toEqual(['Intro', 'Quiz']);
  });

  it('checks everything before writing: nothing is created when one state is wrong', async () => {
    const interaction = unique('Numeric');
    ok(await register(t.gql, interaction, 'NumClassifier', 1));
    const entity = unique('lesson');
    const good = { stateName: 'A', interactionId: interaction, trainingData: [1] };
    ok(await t.gql(CREATE, { i: { entityId: entity, entityVersion: 1, states: [good] } }));
    const cases: [string, unknown[], string][] = [
      ['an unknown interaction', [{ stateName: 'B', interactionId: 'Nope', trainingData: [1] }], 'BAD_USER_INPUT'],
      ['empty training data', [{ stateName: 'B', interactionId: interaction, trainingData: [] }], 'BAD_USER_INPUT'],
      [
        'oversized training data',
        [{ stateName: 'B', interactionId: interaction, trainingData: 'x'.repeat(1024 * 1024 + 1) }],
        'TOO_LARGE',
      ],
      [
        'a state named twice',
        [
          { ...good, stateName: 'B' },
          { ...good, stateName: 'B' },
        ],
        'BAD_USER_INPUT',
      ],
      [
        'a mapping that exists, made with other training data',
        [
          { ...good, stateName: 'C' },
          { ...good, trainingData: [2] },
        ],
        'CONFLICT',
      ],
    ];
    for (const [what, states, code] of cases) {
      const head = await t.trialog.store.headPosition();
      const response = await t.gql(CREATE, { i: { entityId: entity, entityVersion: 1, states } });
      expect(errorCode(response), what).toBe(code);
      expect(await t.trialog.store.headPosition(), `${what} writes nothing`).toBe(head);
    }
    expect(ok(await t.gql(MAPPING, { e: entity, v: 1, s: 'C' })).mapping).toBeNull();
  });

  it('the same call again (a retry whose answer was lost) answers with the mappings it made and writes nothing', async () => {
    const interaction = unique('Retried');
    ok(await register(t.gql, interaction, 'RetriedClassifier', 1));
    const entity = unique('lesson');
    // The retry's JSON may lay its keys out differently: the content is what counts.
    const call = {
      i: {
        entityId: entity,
        entityVersion: 1,
        states: [{ stateName: 'A', interactionId: interaction, trainingData: { x: 1, y: 2 } }],
      },
    };
    const first = ok(await t.gql(CREATE, call)).createTrainingJobs;
    const head = await t.trialog.store.headPosition();
    const again = {
      i: {
        entityId: entity,
        entityVersion: 1,
        states: [{ trainingData: { y: 2, x: 1 }, interactionId: interaction, stateName: 'A' }],
      },
    };
    expect(ok(await t.gql(CREATE, again)).createTrainingJobs).toEqual(first);
    expect(await t.trialog.store.headPosition()).toBe(head);
  });
});

describe('carrying mappings forward', () => {
  it("a new version's unchanged (and renamed) states share the old version's jobs, without new training", async () => {
    const interaction = unique('TextInput');
    ok(await register(t.gql, interaction, 'TC', 1));
    const entity = unique('lesson');
    const old = ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: [{ stateName: 'Hello', interactionId: interaction, trainingData: ['hi'] }],
        },
      }),
    ).createTrainingJobs[0];
    await trainAll(t.gql, 'TC', () => ({ ok: true }));
    const head = await t.trialog.store.headPosition();
    const carried = ok(
      await t.gql(CARRY, {
        i: {
          entityId: entity,
          fromVersion: 1,
          toVersion: 2,
          states: [{ stateName: 'Hello', newStateName: 'Greeting' }],
        },
      }),
    ).carryMappingsForward[0];
    expect(carried).toMatchObject({ entityVersion: 2, stateName: 'Greeting', carriedFrom: '1/Hello' });
    expect(carried.jobs[0].job.id).toBe(old.jobs[0].job.id);
    const events = ok(await t.gql(`query($a: String) { events(after: $a) { edges { node { type } } } }`, { a: head }))
      .events.edges;
    expect(events.map((e: any) => e.node.type)).toEqual(['TrainingStatesReserved', 'MappingCreated']); // no job, no training
    const a = ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'Hello' })).trainedModel;
    const b = ok(await t.gql(TRAINED, { e: entity, v: 2, s: 'Greeting' })).trainedModel;
    expect(b.id).toBe(a.id);
    // The same carry again answers as it did and writes nothing; a carry onto the taken state from elsewhere is CONFLICT.
    const before = await t.trialog.store.headPosition();
    const repeated = ok(
      await t.gql(CARRY, {
        i: {
          entityId: entity,
          fromVersion: 1,
          toVersion: 2,
          states: [{ stateName: 'Hello', newStateName: 'Greeting' }],
        },
      }),
    );
    expect(repeated.carryMappingsForward[0]).toEqual(carried);
    expect(await t.trialog.store.headPosition()).toBe(before);
    expect(
      errorCode(
        await t.gql(CARRY, {
          i: { entityId: entity, fromVersion: 2, toVersion: 3, states: [{ stateName: 'Greeting' }] },
        }),
      ),
    ).toBeUndefined();
    expect(
      errorCode(
        await t.gql(CARRY, {
          i: {
            entityId: entity,
            fromVersion: 1,
            toVersion: 3,
            states: [{ stateName: 'Hello', newStateName: 'Greeting' }],
          },
        }),
      ),
    ).toBe('CONFLICT');
    expect(
      errorCode(
        await t.gql(CARRY, {
          i: { entityId: entity, fromVersion: 1, toVersion: 3, states: [{ stateName: 'Missing' }] },
        }),
      ),
    ).toBe('NOT_FOUND');
  });
});

describe('migrating mappings', () => {
  async function setup(states = 3) {
    const interaction = unique('Interaction');
    const entity = unique('lesson');
    ok(await register(t.gql, interaction, 'Alpha', 1));
    ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: Array.from({ length: states }, (_, i) => ({
            stateName: `S${i}`,
            interactionId: interaction,
            trainingData: [i],
          })),
        },
      }),
    );
    await trainAll(t.gql, 'Alpha', () => ({ acc: 0.5 }));
    return { interaction, entity };
  }
  const t_gql_migrate = (entity: string, dryRun: boolean) => t.gql(MIGRATE, { i: { entityId: entity, dryRun } });

  it('ADD: an algorithm the registry names and the mapping lacks gets a job on the same training data', async () => {
    const { interaction, entity } = await setup(2);
    ok(await register(t.gql, interaction, 'Beta', 1));
    const result = ok(await t_gql_migrate(entity, false)).migrateMappings;
    expect(result.examined).toBe(2);
    expect(result.changes.map((c: any) => [c.stateName, c.algorithmId, c.action])).toEqual([
      ['S0', 'Beta', 'ADD'],
      ['S1', 'Beta', 'ADD'],
    ]);
    const mapping = ok(await t.gql(MAPPING, { e: entity, v: 1, s: 'S1' })).mapping;
    expect(mapping.jobs.map((j: any) => [j.algorithmId, j.job.status, j.job.trainingData])).toEqual([
      ['Alpha', 'SUCCEEDED', [1]],
      ['Beta', 'QUEUED', [1]],
    ]);
    expect(ok(await t_gql_migrate(entity, false)).migrateMappings.changes).toEqual([]); // idempotent
  });

  it('UPGRADE: a job trained with an older version is queued again, its earlier result kept in its history', async () => {
    const { interaction, entity } = await setup(1);
    ok(await register(t.gql, interaction, 'Alpha', 2));
    const result = ok(await t_gql_migrate(entity, false)).migrateMappings;
    expect(result.changes.map((c: any) => c.action)).toEqual(['UPGRADE']);
    const job = ok(
      await t.gql(
        `query($id: ID!) { job(id: $id) { status attempts algorithmVersion result leaseExpiresAt history { edges { node { type } } } } }`,
        { id: result.changes[0].jobId },
      ),
    ).job;
    expect(job).toMatchObject({
      status: 'QUEUED',
      attempts: 0,
      algorithmVersion: 2,
      result: null,
      leaseExpiresAt: null,
    });
    expect(job.history.edges.map((e: any) => e.node.type)).toEqual([
      'JobCreated',
      'JobClaimed',
      'JobCompleted',
      'JobRetrained',
    ]);
    expect(ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'S0' })).trainedModel).toBeNull(); // retraining
    await trainAll(t.gql, 'Alpha', () => ({ acc: 0.9 }));
    expect(ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'S0' })).trainedModel.result).toEqual({ acc: 0.9 });
    expect(ok(await t_gql_migrate(entity, false)).migrateMappings.changes).toEqual([]);
  });

  it('REMOVE: a retired algorithm is taken out of the mapping and its unfinished job cancelled', async () => {
    const { interaction, entity } = await setup(1);
    ok(await register(t.gql, interaction, 'Gamma', 1));
    const added = ok(await t_gql_migrate(entity, false)).migrateMappings.changes[0];
    ok(await t.gql(RETIRE, { i: { interactionId: interaction, algorithmId: 'Gamma' } }));
    const removed = ok(await t_gql_migrate(entity, false)).migrateMappings.changes;
    expect(removed.map((c: any) => [c.algorithmId, c.action, c.jobId])).toEqual([['Gamma', 'REMOVE', added.jobId]]);
    expect(ok(await t.gql(`query($id: ID!) { job(id: $id) { status } }`, { id: added.jobId })).job.status).toBe(
      'CANCELLED',
    );
    const mapping = ok(await t.gql(MAPPING, { e: entity, v: 1, s: 'S0' })).mapping;
    expect(mapping.jobs.map((j: any) => j.algorithmId)).toEqual(['Alpha']);
    expect(mapping.history.edges.map((e: any) => e.node.type)).toEqual([
      'MappingCreated',
      'MappingJobAdded',
      'MappingJobRemoved',
    ]);
  });

  it('mixed: add, upgrade and remove in one run; a dry run reports the same without writing anything', async () => {
    const { interaction, entity } = await setup(2);
    ok(await register(t.gql, interaction, 'Old', 1));
    ok(await t_gql_migrate(entity, false));
    ok(await register(t.gql, interaction, 'Alpha', 5));
    ok(await register(t.gql, interaction, 'New', 1));
    ok(await t.gql(RETIRE, { i: { interactionId: interaction, algorithmId: 'Old' } }));
    const head = await t.trialog.store.headPosition();
    const dry = ok(await t_gql_migrate(entity, true)).migrateMappings;
    expect(await t.trialog.store.headPosition()).toBe(head);
    expect(dry.dryRun).toBe(true);
    const summary = (changes: any[]) => changes.map((c) => `${c.stateName}:${c.algorithmId}:${c.action}`);
    expect(summary(dry.changes)).toEqual([
      'S0:Alpha:UPGRADE',
      'S0:New:ADD',
      'S0:Old:REMOVE',
      'S1:Alpha:UPGRADE',
      'S1:New:ADD',
      'S1:Old:REMOVE',
    ]);
    const real = ok(await t_gql_migrate(entity, false)).migrateMappings;
    expect(summary(real.changes)).toEqual(summary(dry.changes));
    expect(real.changes.map((c: any) => c.jobId)).toEqual(dry.changes.map((c: any) => c.jobId));
    expect(ok(await t_gql_migrate(entity, false)).migrateMappings.changes).toEqual([]);
  });

  it('two concurrent migrations create no duplicate job and report each change once', async () => {
    const { interaction, entity } = await setup(20);
    ok(await register(t.gql, interaction, 'Delta', 1));
    const [a, b] = await Promise.all([t_gql_migrate(entity, false), t_gql_migrate(entity, false)]);
    const changes = [...ok(a).migrateMappings.changes, ...ok(b).migrateMappings.changes];
    expect(changes).toHaveLength(20);
    expect(new Set(changes.map((c: any) => c.stateName)).size).toBe(20);
    const deltaJobs = ok(await t.gql(`{ jobs(first: 1000, filter: { algorithmId: "Delta" }) { totalCount } }`)).jobs
      .totalCount;
    expect(deltaJobs).toBe(20);
  });

  it('replaying the log from zero gives the same read models', async () => {
    const rebuilt = await rebuildReadModels(t.trialog.store);
    for (const table of readModelTables(rebuilt)) {
      expect(dumpTable(rebuilt, table), `table ${table}`).toEqual(dumpTable(t.trialog.readDb, table));
    }
    rebuilt.close();
  });
});

describe('concurrent calls creating training jobs for overlapping states', () => {
  it('two concurrent calls for overlapping states: one writes everything, the other nothing', async () => {
    const interaction = unique('Race');
    ok(await register(t.gql, interaction, 'RaceClassifier', 1));
    for (let round = 0; round < 5; round++) {
      const entity = unique('race');
      const states = (tag: string, order: number[]) =>
        order.map((i) => ({ stateName: `S${i}`, interactionId: interaction, trainingData: [`${tag}${i}`] }));
      const [a, b] = await Promise.all([
        t.gql(CREATE, { i: { entityId: entity, entityVersion: 1, states: states('A', [0, 1, 2]) } }),
        t.gql(CREATE, { i: { entityId: entity, entityVersion: 1, states: states('B', [2, 1, 0]) } }),
      ]);
      const winners = [a, b].filter((r) => !r.errors);
      expect(winners).toHaveLength(1);
      expect(errorCode([a, b].find((r) => r.errors)!)).toBe('CONFLICT');
      const tag = winners[0] === a ? 'A' : 'B';
      for (const i of [0, 1, 2]) {
        const mapping = ok(await t.gql(MAPPING, { e: entity, v: 1, s: `S${i}` })).mapping;
        expect(mapping.jobs[0].job.trainingData).toEqual([`${tag}${i}`]);
      }
    }
  });
});

describe('a migration after one that was interrupted', () => {
  it('a job left by an interrupted migration is brought up to the version the mapping records', async () => {
    const interaction = unique('Interrupted');
    const entity = unique('lesson');
    ok(await register(t.gql, interaction, 'One', 1));
    ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: [{ stateName: 'S', interactionId: interaction, trainingData: [1] }],
        },
      }),
    );
    // As if a migration had created Two's job at version 1 and died before recording it in the mapping.
    const { mappingId } = await import('../../src/domain/mapping/events.js');
    const { mappingJobId } = await import('../../src/domain/mapping/mapping.js');
    const { jobData } = await import('../../src/app/job-ids.js');
    const orphan = mappingJobId(mappingId(entity, 1, 'S'), 'Two', 1);
    await t.trialog.jobCommands.createJobIfAbsent(
      jobData(orphan, { algorithmId: 'Two', algorithmVersion: 1, trainingData: [1] }),
      { actor: 'test', correlationId: 'crash' },
    );
    ok(await register(t.gql, interaction, 'Two', 2));
    const changes = ok(await t.gql(MIGRATE, { i: { entityId: entity } })).migrateMappings.changes;
    expect(changes.map((c: any) => [c.algorithmId, c.action, c.jobId])).toEqual([['Two', 'ADD', orphan]]);
    expect(
      ok(await t.gql(`query($id: ID!) { job(id: $id) { algorithmVersion } }`, { id: orphan })).job.algorithmVersion,
    ).toBe(2);
  });
});

describe('upgrading a carried-forward mapping', () => {
  it("upgrading a carried-forward mapping trains a job of its own and leaves the old version's model serving", async () => {
    const interaction = unique('Shared');
    const entity = unique('lesson');
    ok(await register(t.gql, interaction, 'SharedClassifier', 1));
    ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: [{ stateName: 'S', interactionId: interaction, trainingData: [1] }],
        },
      }),
    );
    await trainAll(t.gql, 'SharedClassifier', () => ({ v: 1 }));
    ok(await t.gql(CARRY, { i: { entityId: entity, fromVersion: 1, toVersion: 2, states: [{ stateName: 'S' }] } }));
    const shared = ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'S' })).trainedModel.id;
    ok(await register(t.gql, interaction, 'SharedClassifier', 2));
    const changes = ok(await t.gql(MIGRATE, { i: { entityId: entity, entityVersion: 2 } })).migrateMappings.changes;
    expect(changes).toHaveLength(1);
    expect(changes[0].action).toBe('UPGRADE');
    expect(changes[0].jobId).not.toBe(shared);
    // Version 1 still serves its model; its own upgrade now retrains the job it alone holds.
    expect(ok(await t.gql(TRAINED, { e: entity, v: 1, s: 'S' })).trainedModel.id).toBe(shared);
    const v1 = ok(await t.gql(MIGRATE, { i: { entityId: entity, entityVersion: 1 } })).migrateMappings.changes;
    expect(v1.map((c: any) => [c.action, c.jobId])).toEqual([['UPGRADE', shared]]);
    expect(ok(await t.gql(MIGRATE, { i: { entityId: entity } })).migrateMappings.changes).toEqual([]);
  });
});

describe('one migration over a mapping and its carried-forward copy (they share their jobs)', () => {
  async function sharedJob(algorithmId: string, train: boolean) {
    const interaction = unique('Carried');
    const entity = unique('lesson');
    ok(await register(t.gql, interaction, algorithmId, 1));
    ok(
      await t.gql(CREATE, {
        i: {
          entityId: entity,
          entityVersion: 1,
          states: [{ stateName: 'S', interactionId: interaction, trainingData: [1] }],
        },
      }),
    );
    if (train) await trainAll(t.gql, algorithmId, () => ({ v: 1 }));
    ok(await t.gql(CARRY, { i: { entityId: entity, fromVersion: 1, toVersion: 2, states: [{ stateName: 'S' }] } }));
    const shared = ok(await t.gql(MAPPING, { e: entity, v: 1, s: 'S' })).mapping.jobs[0].job.id as string;
    return { interaction, entity, shared };
  }

  it('when their algorithm is retired, takes it out of both and cancels the job the last one let go of', async () => {
    const { interaction, entity, shared } = await sharedJob('Retiring', false);
    ok(await t.gql(RETIRE, { i: { interactionId: interaction, algorithmId: 'Retiring' } }));
    const changes = ok(await t.gql(MIGRATE, { i: { entityId: entity } })).migrateMappings.changes;
    expect(changes.map((c: any) => [c.entityVersion, c.action, c.jobId])).toEqual([
      [1, 'REMOVE', shared],
      [2, 'REMOVE', shared],
    ]);
    expect(ok(await t.gql(`query($id: ID!) { job(id: $id) { status } }`, { id: shared })).job.status).toBe('CANCELLED');
  });

  it('when their algorithm is upgraded, the first gets a job of its own and the last retrains the shared one: no job is left unmapped', async () => {
    const { interaction, entity, shared } = await sharedJob('Upgrading', true);
    ok(await register(t.gql, interaction, 'Upgrading', 2));
    const changes = ok(await t.gql(MIGRATE, { i: { entityId: entity } })).migrateMappings.changes;
    expect(changes.map((c: any) => [c.entityVersion, c.action])).toEqual([
      [1, 'UPGRADE'],
      [2, 'UPGRADE'],
    ]);
    expect(changes[0].jobId).not.toBe(shared);
    expect(changes[1].jobId).toBe(shared);
    for (const version of [1, 2]) {
      const job = ok(await t.gql(MAPPING, { e: entity, v: version, s: 'S' })).mapping.jobs[0].job;
      expect(job).toMatchObject({ status: 'QUEUED', algorithmVersion: 2 });
    }
    expect(ok(await t.gql(MIGRATE, { i: { entityId: entity } })).migrateMappings.changes).toEqual([]);
  });
});

describe('10,000 mappings', () => {
  it('are migrated in one call (time and peak memory printed)', async () => {
    const big = await startTestServer();
    try {
      ok(await register(big.gql, 'Bulk', 'BulkClassifier', 1));
      const setupStart = performance.now();
      const setupCpuStart = process.cpuUsage();
      for (let batch = 0; batch < 10; batch++) {
        const states = Array.from({ length: 1000 }, (_, i) => ({
          stateName: `S${batch * 1000 + i}`,
          interactionId: 'Bulk',
          trainingData: [i],
        }));
        ok(
          await big.gql(`mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName } }`, {
            i: { entityId: 'bulk', entityVersion: 1, states },
          }),
        );
      }
      const setupSeconds = (performance.now() - setupStart) / 1000;
      const setupCpu = process.cpuUsage(setupCpuStart);
      ok(await register(big.gql, 'Bulk', 'BulkClassifier', 2));
      const rssBefore = process.memoryUsage().rss;
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      const result = ok(
        await big.gql(`mutation { migrateMappings(input: {}) { examined changes { action } } }`),
      ).migrateMappings;
      const seconds = (performance.now() - start) / 1000;
      // On a shared machine the wall time depends on the neighbours; the CPU time (server and test share this process) less so.
      const cpu = process.cpuUsage(cpuStart);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const peakMiB = process.resourceUsage().maxRSS / 1024;
      expect(result.examined).toBe(10_000);
      expect(result.changes).toHaveLength(10_000);
      expect(result.changes.every((c: any) => c.action === 'UPGRADE')).toBe(true);
      console.log(
        `10,000 mappings: created in ${setupSeconds.toFixed(1)} s (${((setupCpu.user + setupCpu.system) / 1e6).toFixed(1)} s of CPU); migrated (10,000 UPGRADEs) in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU); ` +
          `rss before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, after ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, process peak ${peakMiB.toFixed(0)} MiB`,
      );
      const again = ok(
        await big.gql(`mutation { migrateMappings(input: {}) { examined changes { action } } }`),
      ).migrateMappings;
      expect(again).toEqual({ examined: 10_000, changes: [] });
    } finally {
      await big.stop();
    }
  });
});
