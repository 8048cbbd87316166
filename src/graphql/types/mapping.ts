/**
 * Training mappings and the algorithm registry: types, queries and mutations.
 * Commands live in src/app/mapping-commands.ts, reads in projections/mappings-queries.ts.
 */
import { mappingId } from '../../domain/mapping/events.js';
import { mappingKind } from '../../domain/mapping/kinds.js';
import type { MappingState } from '../../domain/mapping/mapping.js';
import type { AlgorithmRow } from '../../../projections/mappings-queries.js';
import type { MappingChangeReport } from '../../app/mapping-commands.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { connectionTypes, pageSize, positionCursor, toConnection } from '../pagination.js';
import { EventConnection, selectedEventFields } from './event.js';
import { Job, type JobShape } from './job.js';

const Algorithm = builder.objectRef<AlgorithmRow>('Algorithm').implement({
  description: 'The algorithm that currently trains models for one interaction type.',
  fields: (t) => ({
    interactionId: t.exposeString('interactionId'),
    algorithmId: t.exposeString('algorithmId'),
    algorithmVersion: t.exposeInt('algorithmVersion'),
  }),
});

const MappedJob = builder.objectRef<{ algorithmId: string; job: JobShape }>('MappedJob').implement({
  fields: (t) => ({
    algorithmId: t.exposeString('algorithmId'),
    job: t.field({ type: Job, resolve: (m) => m.job }),
  }),
});

function mappedJobs(ctx: GraphQLContext, mapping: MappingState): { algorithmId: string; job: JobShape }[] {
  return Object.entries(mapping.jobs)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([algorithmId, { jobId }]) => {
      const job = ctx.trialog.jobQueries.job(jobId);
      return job ? [{ algorithmId, job }] : [];
    });
}

const TrainingMapping = builder.objectRef<MappingState>('TrainingMapping').implement({
  description: "Which job trains each algorithm's model for one state of one entity version.",
  fields: (t) => ({
    entityId: t.exposeString('entityId'),
    entityVersion: t.exposeInt('entityVersion'),
    stateName: t.exposeString('stateName'),
    interactionId: t.exposeString('interactionId'),
    jobs: t.field({ type: [MappedJob], resolve: (m, _args, ctx) => mappedJobs(ctx, m) }),
    carriedFrom: t.string({
      nullable: true,
      description: 'The version and state it was carried forward from, as "version/state".',
      resolve: (m) => (m.carriedFrom ? `${m.carriedFrom.entityVersion}/${m.carriedFrom.stateName}` : null),
    }),
    history: t.field({
      type: EventConnection,
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: async (m, args, { trialog, limits }, info) => {
        const page = await trialog.history.streamPage(
          mappingKind.streamId(m.id),
          pageSize(limits, args.first, 100),
          args.after ?? undefined,
          {
            fields: selectedEventFields(info, ['edges', 'node']),
          },
        );
        return toConnection(page.items, page.hasNextPage, args.after);
      },
    }),
  }),
});

const TrainingMappingConnection = connectionTypes<MappingState>('TrainingMapping', TrainingMapping);

const MappingChange = builder.objectRef<MappingChangeReport>('MappingChange').implement({
  fields: (t) => ({
    entityId: t.exposeString('entityId'),
    entityVersion: t.exposeInt('entityVersion'),
    stateName: t.exposeString('stateName'),
    algorithmId: t.exposeString('algorithmId'),
    action: t.exposeString('action', { description: 'ADD, UPGRADE or REMOVE' }),
    jobId: t.exposeID('jobId', { nullable: true }),
  }),
});

const MigrateMappingsPayload = builder
  .objectRef<{ examined: number; changes: MappingChangeReport[]; dryRun: boolean }>('MigrateMappingsPayload')
  .implement({
    fields: (t) => ({
      examined: t.exposeInt('examined'),
      changes: t.field({ type: [MappingChange], resolve: (p) => p.changes }),
      dryRun: t.exposeBoolean('dryRun'),
    }),
  });

const RegisterAlgorithmInput = builder.inputType('RegisterAlgorithmInput', {
  fields: (t) => ({
    interactionId: t.string({ required: true }),
    algorithmId: t.string({ required: true }),
    algorithmVersion: t.int({ required: true }),
  }),
});

const RetireAlgorithmInput = builder.inputType('RetireAlgorithmInput', {
  fields: (t) => ({
    interactionId: t.string({ required: true }),
    algorithmId: t.string({ description: "Retire only this algorithm; all of the interaction's when absent." }),
  }),
});

const TrainableStateInput = builder.inputType('TrainableStateInput', {
  fields: (t) => ({
    stateName: t.string({ required: true }),
    interactionId: t.string({ required: true }),
    trainingData: t.field({ type: 'JSON', required: true }),
  }),
});

const CreateTrainingJobsInput = builder.inputType('CreateTrainingJobsInput', {
  fields: (t) => ({
    entityId: t.string({ required: true }),
    entityVersion: t.int({ required: true }),
    states: t.field({ type: [TrainableStateInput], required: true }),
  }),
});

const CarriedStateInput = builder.inputType('CarriedStateInput', {
  fields: (t) => ({
    stateName: t.string({ required: true }),
    newStateName: t.string({ description: "The state's name in the new version, when it was renamed." }),
  }),
});

const CarryMappingsForwardInput = builder.inputType('CarryMappingsForwardInput', {
  fields: (t) => ({
    entityId: t.string({ required: true }),
    fromVersion: t.int({ required: true }),
    toVersion: t.int({ required: true }),
    states: t.field({ type: [CarriedStateInput], required: true }),
  }),
});

const MigrateMappingsInput = builder.inputType('MigrateMappingsInput', {
  fields: (t) => ({
    entityId: t.string(),
    entityVersion: t.int(),
    stateName: t.string(),
    dryRun: t.boolean({ defaultValue: false }),
  }),
});

function readMappings(ctx: GraphQLContext, ids: string[]): MappingState[] {
  return ids.map((id) => ctx.trialog.mappingQueries.mapping(id)!);
}

builder.queryFields((t) => ({
  algorithms: t.field({
    type: [Algorithm],
    resolve: (_root, _args, { trialog }) => trialog.mappingQueries.algorithms(),
  }),
  mapping: t.field({
    type: TrainingMapping,
    nullable: true,
    args: {
      entityId: t.arg.string({ required: true }),
      entityVersion: t.arg.int({ required: true }),
      stateName: t.arg.string({ required: true }),
    },
    resolve: (_root, args, { trialog }) =>
      trialog.mappingQueries.mapping(mappingId(args.entityId, args.entityVersion, args.stateName)) ?? null,
  }),
  mappingAt: t.field({
    type: TrainingMapping,
    nullable: true,
    description: 'The mapping as it stood at a revision of its stream, or at a time.',
    args: {
      entityId: t.arg.string({ required: true }),
      entityVersion: t.arg.int({ required: true }),
      stateName: t.arg.string({ required: true }),
      revision: t.arg.int(),
      at: t.arg({ type: 'DateTime' }),
    },
    resolve: async (_root, args, { trialog }) => {
      const id = mappingId(args.entityId, args.entityVersion, args.stateName);
      const past = await trialog.history.foldAt(mappingKind, id, { revision: args.revision, time: args.at });
      return past?.state ?? null;
    },
  }),
  mappings: t.field({
    type: TrainingMappingConnection,
    args: { entityId: t.arg.string(), first: t.arg.int({ defaultValue: 50 }), after: t.arg.string() },
    resolve: (_root, args, { trialog, limits }) => {
      const page = trialog.mappingQueries.mappings(
        { entityId: args.entityId },
        pageSize(limits, args.first, 50),
        positionCursor(trialog.history, args.after),
      );
      return toConnection(page.items, page.hasNextPage, args.after);
    },
  }),
  trainedModel: t.field({
    type: Job,
    nullable: true,
    description: 'The latest succeeded job whose model serves this state for this algorithm.',
    args: {
      entityId: t.arg.string({ required: true }),
      entityVersion: t.arg.int({ required: true }),
      stateName: t.arg.string({ required: true }),
      algorithmId: t.arg.string(),
    },
    resolve: (_root, args, ctx) => {
      const mapping = ctx.trialog.mappingQueries.mapping(mappingId(args.entityId, args.entityVersion, args.stateName));
      if (!mapping) return null;
      // One algorithm's job, or (without one) the newest SUCCEEDED job among the mapping's.
      const jobs = Object.entries(mapping.jobs)
        .filter(([algorithmId]) => !args.algorithmId || algorithmId === args.algorithmId)
        .map(([, { jobId }]) => ctx.trialog.jobQueries.job(jobId))
        .filter((job): job is JobShape => job?.status === 'SUCCEEDED')
        .sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : -1));
      // null while it trains or after it failed: only a SUCCEEDED job has a model to serve.
      return jobs[0] ?? null;
    },
  }),
}));

builder.mutationFields((t) => ({
  registerAlgorithm: t.field({
    type: Algorithm,
    args: { input: t.arg({ type: RegisterAlgorithmInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.mappingCommands.registerAlgorithm(input, ctx.command),
  }),
  retireAlgorithm: t.field({
    type: [Algorithm],
    description: 'Stops an interaction type (or one of its algorithms) being trainable; answers what it retired.',
    args: { input: t.arg({ type: RetireAlgorithmInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.mappingCommands.retireAlgorithm(input, ctx.command),
  }),
  createTrainingJobs: t.field({
    type: [TrainingMapping],
    args: { input: t.arg({ type: CreateTrainingJobsInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      readMappings(ctx, await ctx.trialog.mappingCommands.createTrainingJobs(input, ctx.command)),
  }),
  carryMappingsForward: t.field({
    type: [TrainingMapping],
    description: "A new entity version's mappings for unchanged (or renamed) states, pointing at the same jobs.",
    args: { input: t.arg({ type: CarryMappingsForwardInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      readMappings(ctx, await ctx.trialog.mappingCommands.carryMappingsForward(input, ctx.command)),
  }),
  migrateMappings: t.field({
    type: MigrateMappingsPayload,
    args: { input: t.arg({ type: MigrateMappingsInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.mappingCommands.migrateMappings(input, ctx.command),
  }),
}));
