/**
 * Training mappings and the algorithm registry. The types follow the contract;
 * the root fields answer NOT_IMPLEMENTED until the mappings issue (#4) lands.
 */
import { builder } from '../builder.js';
import { notImplemented } from '../errors.js';
import { connectionTypes } from '../pagination.js';
import { EventConnection } from './event.js';
import { Job, type JobShape } from './job.js';

interface AlgorithmShape {
  interactionId: string;
  algorithmId: string;
  algorithmVersion: number;
}

interface TrainingMappingShape {
  entityId: string;
  entityVersion: number;
  stateName: string;
  interactionId: string;
  jobs: { algorithmId: string; job: JobShape }[];
}

interface MappingChangeShape {
  entityId: string;
  entityVersion: number;
  stateName: string;
  algorithmId: string;
  action: string;
  jobId: string | null;
}

const Algorithm = builder.objectRef<AlgorithmShape>('Algorithm').implement({
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

const TrainingMapping = builder.objectRef<TrainingMappingShape>('TrainingMapping').implement({
  description: 'Which job trains each algorithm\'s model for one state of one entity version.',
  fields: (t) => ({
    entityId: t.exposeString('entityId'),
    entityVersion: t.exposeInt('entityVersion'),
    stateName: t.exposeString('stateName'),
    interactionId: t.exposeString('interactionId'),
    jobs: t.field({ type: [MappedJob], resolve: (m) => m.jobs }),
    history: t.field({
      type: EventConnection,
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: () => notImplemented('TrainingMapping.history', 4),
    }),
  }),
});

const TrainingMappingConnection = connectionTypes<TrainingMappingShape>('TrainingMapping', TrainingMapping);

const MappingChange = builder.objectRef<MappingChangeShape>('MappingChange').implement({
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
  .objectRef<{ examined: number; changes: MappingChangeShape[]; dryRun: boolean }>('MigrateMappingsPayload')
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

const MigrateMappingsInput = builder.inputType('MigrateMappingsInput', {
  fields: (t) => ({
    entityId: t.string(),
    entityVersion: t.int(),
    stateName: t.string(),
    dryRun: t.boolean({ defaultValue: false }),
  }),
});

builder.queryFields((t) => ({
  algorithms: t.field({ type: [Algorithm], resolve: () => notImplemented('algorithms', 4) }),
  mapping: t.field({
    type: TrainingMapping,
    nullable: true,
    args: {
      entityId: t.arg.string({ required: true }),
      entityVersion: t.arg.int({ required: true }),
      stateName: t.arg.string({ required: true }),
    },
    resolve: () => notImplemented('mapping', 4),
  }),
  mappings: t.field({
    type: TrainingMappingConnection,
    args: { entityId: t.arg.string(), first: t.arg.int({ defaultValue: 50 }), after: t.arg.string() },
    resolve: () => notImplemented('mappings', 4),
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
    resolve: () => notImplemented('trainedModel', 4),
  }),
}));

builder.mutationFields((t) => ({
  registerAlgorithm: t.field({
    type: Algorithm,
    args: { input: t.arg({ type: RegisterAlgorithmInput, required: true }) },
    resolve: () => notImplemented('registerAlgorithm', 4),
  }),
  createTrainingJobs: t.field({
    type: [TrainingMapping],
    args: { input: t.arg({ type: CreateTrainingJobsInput, required: true }) },
    resolve: () => notImplemented('createTrainingJobs', 4),
  }),
  migrateMappings: t.field({
    type: MigrateMappingsPayload,
    args: { input: t.arg({ type: MigrateMappingsInput, required: true }) },
    resolve: () => notImplemented('migrateMappings', 4),
  }),
}));
