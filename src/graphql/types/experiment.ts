/**
 * Experiments (hyperparameter searches): the type, its inputs, and the
 * experiment queries, mutations and subscription. Commands live in
 * `src/app/experiment-commands.ts`, reads in `projections/experiments-queries.ts`.
 */
import { badInput, notFound } from '../../domain/errors.js';
import { experimentKind } from '../../domain/experiment/kind.js';
import { maxJobs, schedulerKind } from '../../domain/experiment/schedulers.js';
import type { ExperimentView } from '../../../projections/experiments-queries.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { connectionTypes, pageSize, positionCursor, toConnection } from '../pagination.js';
import { EventConnection, selectedEventFields } from './event.js';
import { Node } from './node.js';

export type ExperimentShape = ExperimentView;

const ExperimentStatus = builder.enumType('ExperimentStatus', { values: ['RUNNING', 'PAUSED', 'DONE'] as const });
const ObjectiveDirection = builder.enumType('ObjectiveDirection', { values: ['MINIMIZE', 'MAXIMIZE'] as const });
const SchedulerKind = builder.enumType('SchedulerKind', {
  values: ['MANUAL', 'RANDOM', 'GRID', 'PBT', 'TPE'] as const,
});

const Objective = builder.objectRef<NonNullable<ExperimentShape['settings']['objective']>>('Objective').implement({
  fields: (t) => ({
    metric: t.exposeString('metric'),
    direction: t.field({ type: ObjectiveDirection, resolve: (o) => o.direction }),
  }),
});

export const JobCounts = builder.objectRef<Record<string, number>>('JobCounts').implement({
  fields: (t) => ({
    queued: t.exposeInt('queued'),
    running: t.exposeInt('running'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    cancelled: t.exposeInt('cancelled'),
    pruned: t.exposeInt('pruned'),
    total: t.exposeInt('total'),
  }),
});

export const Experiment = builder.objectRef<ExperimentShape>('Experiment');

// Fields that reach jobs are added in `experiment-jobs.ts`, after `Job` exists.
Experiment.implement({
  interfaces: [Node],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'settings' in value,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.string({ resolve: (e) => e.settings.name }),
    description: t.string({ nullable: true, resolve: (e) => e.settings.description }),
    status: t.field({ type: ExperimentStatus, resolve: (e) => e.status }),
    objective: t.field({ type: Objective, nullable: true, resolve: (e) => e.settings.objective }),
    scheduler: t.field({ type: SchedulerKind, resolve: (e) => schedulerKind(e.settings) }),
    config: t.field({
      type: 'JSONObject',
      description: 'The scheduler and early-stopping settings as given, after defaults.',
      resolve: (e) => ({ scheduler: e.settings.scheduler, earlyStopping: e.settings.earlyStopping }),
    }),
    maxJobs: t.int({ nullable: true, resolve: (e) => maxJobs(e.settings) }),
    maxConcurrent: t.int({ nullable: true, resolve: (e) => e.settings.maxConcurrent }),
    stopThreshold: t.float({ nullable: true, resolve: (e) => e.settings.stopThreshold }),
    labels: t.stringList({ resolve: (e) => e.settings.labels ?? [] }),
    priority: t.int({ resolve: (e) => e.settings.priority ?? 1 }),
    command: t.stringList({ nullable: true, resolve: (e) => e.settings.command ?? null }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    history: t.field({
      type: EventConnection,
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: async (e, args, { trialog, limits }, info) => {
        const page = await trialog.history.streamPage(
          experimentKind.streamId(e.id),
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

const ExperimentConnection = connectionTypes<ExperimentShape>('Experiment', Experiment);

// ------------------------------------------------------------------ inputs

const ObjectiveInput = builder.inputType('ObjectiveInput', {
  fields: (t) => ({
    metric: t.string({ required: true }),
    direction: t.field({ type: ObjectiveDirection, required: true }),
  }),
});

const FloatRangeInput = builder.inputType('FloatRangeInput', {
  fields: (t) => ({
    low: t.float({ required: true }),
    high: t.float({ required: true }),
    step: t.float({
      description:
        '`uniform` only: the values low, low + step, … up to the last whole step within high (a log-uniform range takes none).',
    }),
  }),
});

const IntRangeInput = builder.inputType('IntRangeInput', {
  fields: (t) => ({
    low: t.int({ required: true }),
    high: t.int({ required: true }),
    step: t.int({ defaultValue: 1 }),
  }),
});

const NormalInput = builder.inputType('NormalInput', {
  fields: (t) => ({ mean: t.float({ required: true }), std: t.float({ required: true }) }),
});

const ChoiceInput = builder.inputType('ChoiceInput', {
  fields: (t) => ({
    values: t.field({ type: ['JSON'], required: true }),
    weights: t.floatList(),
  }),
});

const DistributionInput = builder.inputType('DistributionInput', {
  isOneOf: true,
  fields: (t) => ({
    constant: t.field({ type: 'JSON' }),
    uniform: t.field({ type: FloatRangeInput }),
    logUniform: t.field({ type: FloatRangeInput }),
    intUniform: t.field({ type: IntRangeInput }),
    intLogUniform: t.field({
      type: IntRangeInput,
      description:
        "Integers from low (>= 1) to high, uniform in log space (step 1 only), as Optuna's log IntDistribution.",
    }),
    normal: t.field({ type: NormalInput }),
    logNormal: t.field({ type: NormalInput }),
    choice: t.field({ type: ChoiceInput }),
  }),
});

const ParameterInput = builder.inputType('ParameterInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    distribution: t.field({ type: DistributionInput, required: true }),
  }),
});

const GridParameterInput = builder.inputType('GridParameterInput', {
  fields: (t) => ({ name: t.string({ required: true }), values: t.field({ type: ['JSON'], required: true }) }),
});

const ManualSearchInput = builder.inputType('ManualSearchInput', { fields: (t) => ({ maxJobs: t.int() }) });

const RandomSearchInput = builder.inputType('RandomSearchInput', {
  fields: (t) => ({
    space: t.field({ type: [ParameterInput], required: true }),
    seed: t.int(),
    maxJobs: t.int(),
  }),
});

const TpeVersion = builder.enumType('TpeVersion', {
  description: "Whose TPE a search follows; each trial's decision records it.",
  values: {
    OPTUNA_4_6: { value: 'optuna-4.6', description: 'Optuna 4.0 to 4.6 (the default).' },
    OPTUNA_4_7: {
      value: 'optuna-4.7',
      description: "As 4.6, but an integer log parameter's kernels weigh each integer's mass (Optuna 4.7 and 4.8).",
    },
    OPTUNA_4_9: {
      value: 'optuna-4.9',
      description: "As 4.7, and the prior's mean no longer narrows the kernels' bandwidths (Optuna 4.9).",
    },
  } as const,
});

const TpeSearchInput = builder.inputType('TpeSearchInput', {
  description:
    "Tree-structured Parzen Estimator, as Optuna 4.6's TPESampler with its defaults (or a later version's); needs an " +
    "objective. Each trial's JobCreated records the decision: STARTUP or TPE, the version, the trials weighed, the " +
    'good ones and the running ones.',
  fields: (t) => ({
    space: t.field({ type: [ParameterInput], required: true }),
    seed: t.int({ description: 'Keys every draw with the trial slot: chosen and recorded when not given.' }),
    maxJobs: t.int({ description: 'Trials in all; at most, and by default, the TPE trial limit (10,000).' }),
    startupTrials: t.int({
      defaultValue: 10,
      description: 'Trials drawn as RANDOM would until this many have completed or been pruned.',
    }),
    candidates: t.int({ defaultValue: 24, description: 'Candidates drawn from the good trials per proposal.' }),
    multivariate: t.boolean({
      defaultValue: false,
      description: 'One joint density over all parameters rather than one per parameter.',
    }),
    constantLiar: t.boolean({
      defaultValue: true,
      description: 'Running trials (live leases) count as bad ones, so concurrent proposals spread out.',
    }),
    version: t.field({ type: TpeVersion, defaultValue: 'optuna-4.6', description: 'Whose TPE to follow.' }),
  }),
});

const GridSearchInput = builder.inputType('GridSearchInput', {
  fields: (t) => ({ space: t.field({ type: [GridParameterInput], required: true }) }),
});

const TruncationInput = builder.inputType('TruncationInput', {
  fields: (t) => ({
    fraction: t.float({ defaultValue: 0.2, description: 'Bottom fraction that copies the top fraction.' }),
  }),
});

const TournamentInput = builder.inputType('TournamentInput', {
  fields: (t) => ({
    size: t.int({ defaultValue: 2, description: 'Number of population members drawn for each comparison.' }),
  }),
});

const ExploitInput = builder.inputType('ExploitInput', {
  isOneOf: true,
  fields: (t) => ({ truncation: t.field({ type: TruncationInput }), tournament: t.field({ type: TournamentInput }) }),
});

const PerturbInput = builder.inputType('PerturbInput', {
  fields: (t) => ({ factors: t.floatList({ defaultValue: [0.8, 1.2] }) }),
});

const ResampleInput = builder.inputType('ResampleInput', {
  fields: (t) => ({
    probability: t.float({ defaultValue: 0.25 }),
    distribution: t.field({ type: DistributionInput, required: true }),
  }),
});

const ExploreStrategyInput = builder.inputType('ExploreStrategyInput', {
  isOneOf: true,
  fields: (t) => ({ perturb: t.field({ type: PerturbInput }), resample: t.field({ type: ResampleInput }) }),
});

const ExploreInput = builder.inputType('ExploreInput', {
  fields: (t) => ({
    parameter: t.string({ required: true }),
    strategy: t.field({ type: ExploreStrategyInput, required: true }),
  }),
});

const PbtInput = builder.inputType('PbtInput', {
  fields: (t) => ({
    populationSize: t.int({ required: true }),
    initial: t.field({ type: [ParameterInput], required: true }),
    exploit: t.field({ type: ExploitInput, required: true }),
    explore: t.field({ type: [ExploreInput] }),
    maxGenerations: t.int(),
    seed: t.int(),
  }),
});

const SchedulerInput = builder.inputType('SchedulerInput', {
  isOneOf: true,
  fields: (t) => ({
    manual: t.field({ type: ManualSearchInput }),
    random: t.field({ type: RandomSearchInput }),
    grid: t.field({ type: GridSearchInput }),
    pbt: t.field({ type: PbtInput }),
    tpe: t.field({ type: TpeSearchInput }),
  }),
});

const MedianStoppingInput = builder.inputType('MedianStoppingInput', {
  fields: (t) => ({
    startupJobs: t.int({ defaultValue: 5 }),
    warmupSteps: t.int({ defaultValue: 0 }),
    intervalSteps: t.int({ defaultValue: 1 }),
    minJobs: t.int({ defaultValue: 1 }),
  }),
});

const SuccessiveHalvingInput = builder.inputType('SuccessiveHalvingInput', {
  fields: (t) => ({
    minSteps: t.int({ defaultValue: 1 }),
    reductionFactor: t.int({ defaultValue: 4 }),
    minEarlyStoppingRate: t.int({
      defaultValue: 0,
      description: "Optuna's min_early_stopping_rate: the first rung is at step minSteps × reductionFactor^rate.",
    }),
    maxSteps: t.int(),
  }),
});

const HyperbandInput = builder.inputType('HyperbandInput', {
  description:
    "Optuna's HyperbandPruner: successive-halving brackets at early-stopping rates 0, 1, …; each trial in one bracket " +
    '(CRC-32 of "experiment name_trial slot"), judged against its bracket only.',
  fields: (t) => ({
    minSteps: t.int({ defaultValue: 1, description: "Optuna's min_resource." }),
    reductionFactor: t.int({ defaultValue: 3 }),
    maxSteps: t.int({
      description: "Optuna's max_resource; when not given, the largest last step of the completed trials, plus one.",
    }),
  }),
});

const EarlyStoppingInput = builder.inputType('EarlyStoppingInput', {
  isOneOf: true,
  fields: (t) => ({
    median: t.field({ type: MedianStoppingInput }),
    successiveHalving: t.field({ type: SuccessiveHalvingInput }),
    hyperband: t.field({ type: HyperbandInput }),
  }),
});

const CreateExperimentInput = builder.inputType('CreateExperimentInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    objective: t.field({ type: ObjectiveInput }),
    scheduler: t.field({ type: SchedulerInput, required: true }),
    earlyStopping: t.field({ type: EarlyStoppingInput }),
    maxConcurrent: t.int(),
    stopThreshold: t.float({ description: "Stop the experiment once a job's objective reaches this value." }),
    labels: t.stringList({
      description: "What a worker must offer to run its trials (each trial's job carries these labels).",
    }),
    priority: t.int({
      defaultValue: 1,
      description: "Its weight (1 to 1000) in a worker pool's fair shares.",
    }),
    command: t.stringList({
      description:
        'The command its trials run (argv), for `trialog worker` with neither --experiment nor a command: each ' +
        "trial's job carries it in params.command.",
    }),
  }),
});

const ExperimentStatusInput = builder.inputType('ExperimentStatusInput', {
  fields: (t) => ({ experimentId: t.id({ required: true }) }),
});

// ------------------------------------------------------------------- roots

export function readExperiment(ctx: GraphQLContext, experimentId: string): ExperimentShape {
  const experiment = ctx.trialog.experimentQueries.experiment(experimentId);
  if (!experiment) throw notFound(`experiment ${experimentId} not found`);
  return experiment;
}

builder.queryFields((t) => ({
  experiment: t.field({
    type: Experiment,
    nullable: true,
    args: { id: t.arg.id(), name: t.arg.string() },
    resolve: (_root, { id, name }, { trialog }) => {
      if (id) return trialog.experimentQueries.experiment(id) ?? null;
      if (name) return trialog.experimentQueries.experimentByName(name) ?? null;
      throw badInput('give the experiment id or its name');
    },
  }),
  experimentAt: t.field({
    type: Experiment,
    nullable: true,
    description: 'The experiment as it stood at a revision of its stream, or at a time (its jobs as they are now).',
    args: { id: t.arg.id({ required: true }), revision: t.arg.int(), at: t.arg({ type: 'DateTime' }) },
    resolve: async (_root, args, { trialog }) => {
      const past = await trialog.history.foldAt(experimentKind, args.id, { revision: args.revision, time: args.at });
      return past ? { ...past.state, revision: past.revision } : null;
    },
  }),
  experiments: t.field({
    type: ExperimentConnection,
    args: {
      status: t.arg({ type: ExperimentStatus }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
    },
    resolve: (_root, args, { trialog, limits }) => {
      const page = trialog.experimentQueries.experiments(
        args.status ?? null,
        pageSize(limits, args.first, 50),
        positionCursor(trialog.history, args.after),
      );
      return toConnection(page.items, page.hasNextPage, args.after);
    },
  }),
}));

builder.mutationFields((t) => {
  const statusChange = (change: (ctx: GraphQLContext, experimentId: string) => Promise<string>) =>
    t.field({
      type: Experiment,
      args: { input: t.arg({ type: ExperimentStatusInput, required: true }) },
      resolve: async (_root, { input }, ctx) => readExperiment(ctx, await change(ctx, input.experimentId)),
    });
  return {
    createExperiment: t.field({
      type: Experiment,
      args: { input: t.arg({ type: CreateExperimentInput, required: true }) },
      resolve: async (_root, { input }, ctx) =>
        readExperiment(ctx, await ctx.trialog.experimentCommands.createExperiment(input, ctx.command)),
    }),
    pauseExperiment: statusChange((ctx, id) => ctx.trialog.experimentCommands.pauseExperiment(id, ctx.command)),
    resumeExperiment: statusChange((ctx, id) => ctx.trialog.experimentCommands.resumeExperiment(id, ctx.command)),
    finishExperiment: statusChange((ctx, id) => ctx.trialog.experimentCommands.finishExperiment(id, ctx.command)),
  };
});

builder.subscriptionField('experimentUpdated', (t) =>
  t.field({
    type: Experiment,
    description:
      "Every change to one experiment: its status and its jobs (counts, best job, leaderboard). Ended by the server (too slow, shutting down), it says so with the error's code and `resumeAfter` (the position of the last change sent): query the experiment again and resubscribe.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, { trialog }) => trialog.live.experimentUpdates(id),
    resolve: (experiment: ExperimentShape) => experiment,
  }),
);
