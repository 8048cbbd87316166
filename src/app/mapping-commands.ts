/**
 * The algorithm registry and the training mappings: registering and retiring
 * algorithms, creating one training job per state and algorithm, carrying
 * mappings forward to a new entity version, and migrating mappings when the
 * registry changes.
 *
 * Jobs first, then the mapping: a mapping's jobs have ids derived from
 * (mapping, algorithm, nth addition), so a creator or migration that dies
 * halfway, or two that race, converge on the same jobs, and the mapping's
 * expected revision lets only one of them record each change.
 */
import { badInput, conflict, notFound } from '../domain/errors.js';
import {
  mappingId,
  trainingSetId,
  type MappingEvent,
  type NewMappingEvent,
  type NewRegistryEvent,
  type NewTrainingSetEvent,
  type RegistryEvent,
  type TrainingSetEvent,
} from '../domain/mapping/events.js';
import { mappingKind, registryKind, trainingSetKind } from '../domain/mapping/kinds.js';
import {
  creationJobId,
  groupsSharingJobs,
  inputDigest,
  mappingJobId,
  migrationFor,
  type MappingChange,
  type MappingState,
  type TrainingSet,
} from '../domain/mapping/mapping.js';
import { decideRegistry, type Registry, type RegistryCommand } from '../domain/mapping/registry.js';
import type { Json } from '../domain/job/events.js';
import { jobKind } from '../domain/job/kind.js';
import type { Limits } from '../limits.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import type { AlgorithmRow, MappingQueries } from '../../projections/mappings-queries.js';
import { WrongExpectedRevisionError, type EventStore } from '../store/port.js';
import type { CommandContext } from './command-context.js';
import { assertFitsOneAppend } from './append-fit.js';
import { ByteBudget, forEachConcurrently, laterPosition } from './concurrently.js';
import type { JobCommands } from './job-commands.js';
import { jobData } from './job-ids.js';
import { mappingInputs, type MappingInputs } from './mapping-inputs.js';
import { Repository } from './repository.js';
import { jsonBytes, parseInput } from './validation.js';

const MIGRATION_PAGE = 500;
/**
 * Mappings (or states) written side by side in a bulk command: their appends
 * share commits (one fsync for many) and are applied to the read models in
 * batches. Not the whole page: each one in flight holds the job states it
 * loaded (training data included); 128 already makes the fsyncs a small part
 * of the time. A migration's new jobs also share a budget of training data in
 * flight (see migrate): no more than one createTrainingJobs call may carry.
 */
const BULK_CONCURRENCY = 128;
/** A reserved state whose mapping is still missing after this long was left by a call that died: it may be taken again. */
const ORPHANED_RESERVATION_MS = 5 * 60 * 1000;

export interface MappingChangeReport {
  entityId: string;
  entityVersion: number;
  stateName: string;
  algorithmId: string;
  action: MappingChange['action'];
  jobId: string;
}

export interface MappingCommandDeps {
  store: EventStore;
  queries: MappingQueries;
  jobQueries: JobQueries;
  jobs: JobCommands;
  waitForReadModels: (position: string) => Promise<void>;
  /** What an input may hold (src/limits.ts). */
  limits: Limits;
}

export class MappingCommands {
  private readonly registry: Repository<Registry, RegistryEvent, NewRegistryEvent>;
  private readonly mappings: Repository<MappingState, MappingEvent, NewMappingEvent>;
  private readonly trainingSets: Repository<TrainingSet, TrainingSetEvent, NewTrainingSetEvent>;
  /** Each command's input schema, built once with the configured limits. */
  private readonly inputs: MappingInputs;

  constructor(private readonly deps: MappingCommandDeps) {
    this.inputs = mappingInputs(deps.limits);
    this.registry = new Repository(deps.store, registryKind);
    this.mappings = new Repository(deps.store, mappingKind);
    this.trainingSets = new Repository(deps.store, trainingSetKind);
  }

  /**
   * Takes the state names of an entity version for one call, in one append:
   * a rival call for any of them gets CONFLICT before writing anything. A
   * state reserved by a call with the same digest (the same work: this call
   * retried after its process died, or a concurrent resend) is taken again at
   * once; one reserved with other content is refused while the reservation is
   * fresh, and may be taken once it is old enough to have been abandoned.
   */
  private async reserveStates(
    entityId: string,
    entityVersion: number,
    states: { name: string; digest: string }[],
    context: CommandContext,
  ): Promise<void> {
    // What the decision needs of the mappings (whether one exists, what it was created with) is read
    // first, for the states reserved already (a mapping is created only after its state is reserved):
    // the decision itself reads nothing. A state reserved by a rival meanwhile is fresh, and refused as such.
    const mappedWith = new Map<string, string | undefined>();
    const reservedNow = (await this.trainingSets.load(trainingSetId(entityId, entityVersion))).state ?? {};
    for (const { name } of states) {
      if (reservedNow[name] === undefined) continue;
      const id = mappingId(entityId, entityVersion, name);
      if (this.deps.queries.mapping(id) || (await this.mappings.load(id)).revision !== undefined)
        mappedWith.set(name, await this.createdWith(id));
    }
    await this.trainingSets.change(
      trainingSetId(entityId, entityVersion),
      (state) => {
        for (const { name, digest } of states) {
          const reserved = state?.[name];
          if (reserved === undefined) continue;
          if (mappedWith.has(name)) {
            if (mappedWith.get(name) === digest) continue;
            throw conflict(`a mapping for ${entityId} version ${entityVersion} state ${name} exists already`);
          }
          if (reserved.digest === digest) continue;
          if (Date.now() - Date.parse(reserved.at) < ORPHANED_RESERVATION_MS) {
            throw conflict(
              `the mapping for ${entityId} version ${entityVersion} state ${name} is being created by another call with other content ` +
                `(reserved at ${reserved.at}); that call, retried as it was, completes it; another call may take it from ` +
                `${new Date(Date.parse(reserved.at) + ORPHANED_RESERVATION_MS).toISOString()}`,
            );
          }
        }
        const stateNames = states.map((s) => s.name);
        const digests = Object.fromEntries(states.map((s) => [s.name, s.digest]));
        return [{ type: 'TrainingStatesReserved', data: { entityId, entityVersion, stateNames, digests } }];
      },
      context,
    );
  }

  /** The input digest the mapping was created with (from its first event), or undefined (none, or an older log's). */
  private async createdWith(id: string): Promise<string | undefined> {
    const [first] = await this.deps.store.readStream(mappingKind.streamId(id), { maxCount: 1 });
    if (!first) return undefined;
    const created = mappingKind.parse(first);
    return created.type === 'MappingCreated' ? (created.data.inputDigest ?? undefined) : undefined;
  }

  /**
   * A state of a call that is mapped already: by this same work (the position to await), or by
   * other work (CONFLICT, before anything is written). Undefined while it is not mapped.
   */
  private async alreadyDone(id: string, digest: string, what: string): Promise<string | undefined> {
    const existing = await this.mappings.load(id);
    if (existing.revision === undefined) return undefined;
    if ((await this.createdWith(id)) === digest) return existing.position;
    throw conflict(`a mapping for ${what} exists already`);
  }

  async registerAlgorithm(rawInput: unknown, context: CommandContext): Promise<AlgorithmRow> {
    const input = parseInput(this.inputs.registerAlgorithm, rawInput);
    await this.changeRegistry({ type: 'RegisterAlgorithm', ...input }, context);
    return input;
  }

  /** Returns the algorithms it retired. */
  async retireAlgorithm(rawInput: unknown, context: CommandContext): Promise<AlgorithmRow[]> {
    const input = parseInput(this.inputs.retireAlgorithm, rawInput);
    const retiring = this.deps.queries
      .algorithms()
      .filter(
        (a) =>
          a.interactionId === input.interactionId &&
          (input.algorithmId === null || a.algorithmId === input.algorithmId),
      );
    await this.changeRegistry({ type: 'RetireAlgorithm', ...input }, context);
    return retiring;
  }

  private async changeRegistry(command: RegistryCommand, context: CommandContext): Promise<void> {
    await this.registry.change(registryKind.onlyId!, (state) => decideRegistry(state, command), context, {
      readModels: this.deps.waitForReadModels,
    });
  }

  /**
   * One job per state and algorithm, and one mapping per state. Everything is
   * checked before anything is written: an unknown interaction, empty or
   * oversized training data, a state named twice, or a mapping that exists.
   * The port appends to one stream at a time, so a call cannot be all or
   * nothing across a crash; it is resumable instead: the same call retried
   * counts the states it mapped already as done (each mapping records the
   * digest of its state as given) and writes the rest, to the same jobs.
   */
  async createTrainingJobs(rawInput: unknown, context: CommandContext): Promise<string[]> {
    const input = parseInput(this.inputs.createTrainingJobs, rawInput);
    const registry = this.deps.queries.registry();
    const planned = [];
    let done: string | undefined;
    for (const [i, state] of input.states.entries()) {
      const algorithms = registry[state.interactionId];
      if (!algorithms) {
        throw badInput(`state ${state.stateName}: no algorithm is registered for interaction ${state.interactionId}`, {
          field: `states.${i}.interactionId`,
        });
      }
      const id = mappingId(input.entityId, input.entityVersion, state.stateName);
      const digest = inputDigest(['created', state.stateName, state.interactionId, state.trainingData]);
      const position = await this.alreadyDone(
        id,
        digest,
        `${input.entityId} version ${input.entityVersion} state ${state.stateName}`,
      );
      if (position !== undefined) done = laterPosition(done, position);
      else planned.push({ id, state, algorithms, digest });
    }
    // Each job is its own append: one the store would refuse (training data near the store's largest append)
    // is refused here, before the reservation or any job is written.
    for (const { id, state, algorithms, digest } of planned) {
      const key = { entityId: input.entityId, entityVersion: input.entityVersion, stateName: state.stateName };
      for (const [algorithmId, algorithmVersion] of Object.entries(algorithms)) {
        const jobId = creationJobId(id, algorithmId, digest);
        const created = {
          type: 'JobCreated',
          data: trainingJobData(jobId, algorithmId, algorithmVersion, state.trainingData, key),
        };
        assertFitsOneAppend(this.deps.store, jobKind.streamId(jobId), [created], context);
      }
    }
    if (planned.length > 0) {
      await this.reserveStates(
        input.entityId,
        input.entityVersion,
        planned.map((p) => ({ name: p.state.stateName, digest: p.digest })),
        context,
      );
    }
    // States side by side (each one's jobs before its mapping), the read models awaited once at the end.
    await this.writeSideBySide(
      planned,
      async ({ id, state, algorithms, digest }) => {
        const jobs: Record<string, { jobId: string; algorithmVersion: number }> = {};
        for (const [algorithmId, algorithmVersion] of Object.entries(algorithms).sort()) {
          const jobId = creationJobId(id, algorithmId, digest);
          const key = { entityId: input.entityId, entityVersion: input.entityVersion, stateName: state.stateName };
          await this.ensureJob(jobId, algorithmId, algorithmVersion, state.trainingData, key, context);
          jobs[algorithmId] = { jobId, algorithmVersion };
        }
        return this.createMapping(
          {
            mappingId: id,
            entityId: input.entityId,
            entityVersion: input.entityVersion,
            stateName: state.stateName,
            interactionId: state.interactionId,
            jobs,
            carriedFrom: null,
            trainingDataFrom: Object.values(jobs)[0]!.jobId,
            inputDigest: digest,
          },
          context,
        );
      },
      done,
    );
    return input.states.map((state) => mappingId(input.entityId, input.entityVersion, state.stateName));
  }

  /**
   * Runs `write` for every item, BULK_CONCURRENCY at a time, then waits once for
   * the read models to include the latest position written: also when a write
   * failed, so that what did get written is readable when the error is answered.
   */
  private async writeSideBySide<T>(
    items: Iterable<T>,
    write: (item: T) => Promise<string | undefined>,
    /** A position written before (by an earlier run of the same call) that the answer must include too. */
    before?: string,
  ): Promise<void> {
    let last = before;
    try {
      await forEachConcurrently(items, BULK_CONCURRENCY, async (item) => {
        last = laterPosition(last, await write(item));
      });
    } finally {
      if (last) await this.deps.waitForReadModels(last);
    }
  }

  /** New version's mappings pointing at the same jobs: an unchanged state keeps its trained model. */
  async carryMappingsForward(rawInput: unknown, context: CommandContext): Promise<string[]> {
    const input = parseInput(this.inputs.carryMappingsForward, rawInput);
    const planned = [];
    let done: string | undefined;
    for (const { stateName, newStateName } of input.states) {
      const source = (await this.mappings.load(mappingId(input.entityId, input.fromVersion, stateName))).state;
      if (!source) throw notFound(`no mapping for ${input.entityId} version ${input.fromVersion} state ${stateName}`);
      const id = mappingId(input.entityId, input.toVersion, newStateName);
      // The same carry retried (after a crash, say) counts what it carried already as done.
      const digest = inputDigest(['carried', input.fromVersion, stateName, newStateName]);
      const position = await this.alreadyDone(
        id,
        digest,
        `${input.entityId} version ${input.toVersion} state ${newStateName}`,
      );
      if (position !== undefined) done = laterPosition(done, position);
      else planned.push({ id, source, newStateName, digest });
    }
    if (planned.length > 0) {
      await this.reserveStates(
        input.entityId,
        input.toVersion,
        planned.map((p) => ({ name: p.newStateName, digest: p.digest })),
        context,
      );
    }
    await this.writeSideBySide(
      planned,
      ({ id, source, newStateName, digest }) =>
        this.createMapping(
          {
            mappingId: id,
            entityId: input.entityId,
            entityVersion: input.toVersion,
            stateName: newStateName,
            interactionId: source.interactionId,
            jobs: source.jobs,
            carriedFrom: { entityVersion: source.entityVersion, stateName: source.stateName },
            trainingDataFrom: source.trainingDataFrom,
            inputDigest: digest,
          },
          context,
        ),
      done,
    );
    return input.states.map((s) => mappingId(input.entityId, input.toVersion, s.newStateName));
  }

  /**
   * Brings every mapping that matches the filter in line with the registry,
   * a page at a time: ADD a job for an algorithm the mapping lacks, UPGRADE
   * (queue again) a job trained with an older version, REMOVE (cancel) a job
   * whose algorithm is no longer registered. A second run finds nothing to do.
   */
  async migrateMappings(
    rawInput: unknown,
    context: CommandContext,
  ): Promise<{ examined: number; changes: MappingChangeReport[]; dryRun: boolean }> {
    const input = parseInput(this.inputs.migrateMappings, rawInput);
    const changes: MappingChangeReport[] = [];
    const newJobsData = new ByteBudget(this.deps.limits.trainingDataPerCallBytes);
    let examined = 0;
    let after: string | undefined;
    for (;;) {
      const page = this.deps.queries.mappings(input, MIGRATION_PAGE, after);
      const mappings = page.items.map((item) => item.node);
      examined += mappings.length;
      const applied: MappingChange[][] = mappings.map(() => []);
      // The registry as it is now, not as it was when the run began: a long run must not
      // bring back an algorithm retired meanwhile. (Read from its stream; cached, so cheap.)
      const registeredFor = async (mapping: MappingState) =>
        ((await this.registry.load(registryKind.onlyId!)).state ?? {})[mapping.interactionId] ?? {};
      if (input.dryRun) {
        for (const [i, mapping] of mappings.entries()) applied[i] = migrationFor(mapping, await registeredFor(mapping));
      } else {
        // Mappings that share no job side by side; those sharing one in order, each seeing the
        // one before in the read models (whether a job is shared decides retrain or cancel).
        // The page is in the read models before the next page is read and before the answer.
        await this.writeSideBySide(groupsSharingJobs(mappings), async (group) => {
          let last: string | undefined;
          for (const i of group) {
            const mapping = mappings[i]!;
            const registered = await registeredFor(mapping);
            if (migrationFor(mapping, registered).length === 0) continue;
            if (last) await this.deps.waitForReadModels(last);
            const result = await this.migrate(mapping.id, registered, newJobsData, context);
            applied[i] = result.changes;
            last = laterPosition(last, result.position);
          }
          return last;
        });
      }
      for (const [i, mapping] of mappings.entries()) {
        for (const change of applied[i]!) {
          changes.push({
            entityId: mapping.entityId,
            entityVersion: mapping.entityVersion,
            stateName: mapping.stateName,
            algorithmId: change.algorithmId,
            action: change.action,
            jobId: change.jobId,
          });
        }
      }
      if (!page.hasNextPage) break;
      after = page.items[page.items.length - 1]!.cursor;
    }
    return { examined, changes, dryRun: input.dryRun };
  }

  /**
   * One mapping: its jobs first, then the record of the change at the mapping's revision.
   * A job it creates carries the mapping's training data (up to a megabyte): while it is
   * written and applied to the read models, that data counts against `newJobsData`, so
   * mappings migrated side by side never hold more than the budget of it at once.
   */
  private async migrate(
    id: string,
    registered: Record<string, number>,
    newJobsData: ByteBudget,
    context: CommandContext,
  ): Promise<{ changes: MappingChange[]; position?: string }> {
    const { state } = await this.mappings.load(id);
    const wanted = migrationFor(state!, registered);
    if (wanted.length === 0) return { changes: [] };
    const planned = await this.changeJobs(id, state!, wanted, newJobsData, context);
    // Then the record of the change, decided again on fresh state if another writer got there first.
    const { events, position } = await this.mappings.change(
      id,
      (fresh) => {
        const now = migrationFor(fresh!, registered);
        // Another migration recorded this change first (its jobs are the same jobs).
        if (now.length === 0) return [];
        // It recorded another change (a registry that changed meanwhile): the jobs changed above are not its.
        if (JSON.stringify(now) !== JSON.stringify(wanted))
          throw conflict(`the mapping ${id} was migrated concurrently; run the migration again`);
        return planned.map(mappingChangeEvent);
      },
      context,
    );
    return { changes: events.length > 0 ? planned : [], position };
  }

  /**
   * A migration's jobs, before the mapping records it: new jobs created (with the mapping's
   * training data, up to a megabyte, counted against `newJobsData` while it is written and
   * applied), upgraded ones queued again, removed ones cancelled. Every step is idempotent,
   * so a migration that died halfway, or two that race, converge on the same jobs.
   */
  private async changeJobs(
    id: string,
    state: MappingState,
    wanted: readonly MappingChange[],
    newJobsData: ByteBudget,
    context: CommandContext,
  ): Promise<MappingChange[]> {
    const planned = [...wanted];
    // Read only for a job to create (an upgrade in place keeps its job's data), from the read
    // model: the job was created (and projected) before any mapping named it.
    const newJob = async (jobId: string, algorithmId: string, algorithmVersion: number) => {
      const trainingData = this.deps.jobQueries.job(state.trainingDataFrom)?.trainingData ?? null;
      await newJobsData.use(jsonBytes(trainingData), () =>
        this.ensureJob(jobId, algorithmId, algorithmVersion, trainingData, state, context),
      );
    };
    for (const [i, change] of planned.entries()) {
      if (change.action === 'ADD') {
        await newJob(change.jobId, change.algorithmId, change.algorithmVersion);
      } else if (change.action === 'UPGRADE') {
        if (this.deps.queries.isShared(change.jobId, id)) {
          // Another mapping (carried forward) still serves this job's model: train a job of this mapping's own.
          const own = mappingJobId(id, change.algorithmId, (state.additions[change.algorithmId] ?? 0) + 1);
          await newJob(own, change.algorithmId, change.algorithmVersion);
          planned[i] = { ...change, jobId: own };
        } else {
          await this.deps.jobs.retrainJob(change.jobId, change.algorithmVersion, context);
        }
      } else if (!this.deps.queries.isShared(change.jobId, id)) {
        await this.deps.jobs.cancelIfActive(
          change.jobId,
          `algorithm ${change.algorithmId} is no longer registered`,
          context,
        );
      }
    }
    return planned;
  }

  private async createMapping(
    data: Extract<NewMappingEvent, { type: 'MappingCreated' }>['data'],
    context: CommandContext,
  ): Promise<string> {
    try {
      const { position } = await this.mappings.append(
        data.mappingId,
        [{ type: 'MappingCreated', data }],
        undefined,
        context,
      );
      return position;
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) {
        // The same work sent again at the same time (a resend beside the first): it is done.
        const what = `${data.entityId} version ${data.entityVersion} state ${data.stateName}`;
        const position = data.inputDigest ? await this.alreadyDone(data.mappingId, data.inputDigest, what) : undefined;
        if (position !== undefined) return position;
        throw conflict(`a mapping for ${what} exists already`);
      }
      throw error;
    }
  }

  /**
   * The mapping's job for an algorithm, at least at `algorithmVersion`: created,
   * or, when a call that died or lost a race created it before, brought up to that version.
   */
  private async ensureJob(
    jobId: string,
    algorithmId: string,
    algorithmVersion: number,
    trainingData: Json | null,
    key: { entityId: string; entityVersion: number; stateName: string },
    context: CommandContext,
  ): Promise<void> {
    const created = await this.deps.jobs.createJobIfAbsent(
      trainingJobData(jobId, algorithmId, algorithmVersion, trainingData, key),
      context,
    );
    if (!created) await this.deps.jobs.retrainJob(jobId, algorithmVersion, context);
  }
}

/** The mapping's record of one change to its jobs. */
function mappingChangeEvent(change: MappingChange): NewMappingEvent {
  switch (change.action) {
    case 'ADD':
      return {
        type: 'MappingJobAdded',
        data: { algorithmId: change.algorithmId, jobId: change.jobId, algorithmVersion: change.algorithmVersion },
      };
    case 'UPGRADE':
      return {
        type: 'MappingJobUpgraded',
        data: {
          algorithmId: change.algorithmId,
          jobId: change.jobId,
          fromVersion: change.fromVersion,
          algorithmVersion: change.algorithmVersion,
        },
      };
    case 'REMOVE':
      return { type: 'MappingJobRemoved', data: { algorithmId: change.algorithmId, jobId: change.jobId } };
  }
}

/** What a mapping's training job is created with (its JobCreated event's data). */
function trainingJobData(
  jobId: string,
  algorithmId: string,
  algorithmVersion: number,
  trainingData: Json | null,
  key: { entityId: string; entityVersion: number; stateName: string },
) {
  return jobData(jobId, {
    params: { entityId: key.entityId, entityVersion: key.entityVersion, stateName: key.stateName },
    algorithmId,
    algorithmVersion,
    trainingData,
  });
}
