/**
 * An experiment's settings: the search space, scheduler, early-stopping rule
 * and limits, checked once at creation. The parsed form (defaults filled in)
 * is what ExperimentCreated records and what `Experiment.config` shows, in the
 * same one-of shape as the GraphQL input.
 *
 * A new experiment's settings are checked against the configured limits
 * (`experimentSettings(limits)`); recorded ones (`ExperimentSettings`) are read
 * without them, so that lowering a limit never makes the log unreadable.
 */
import { z } from 'zod';
import type { Limits } from '../../limits.js';
import { TPE_VALUE_JSON_LENGTH } from './tpe/trial-values.js';
import { DEFAULT_TPE_VERSION, TPE_VERSIONS } from './tpe/versions.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positiveInt = z.number().int().min(1);

const positiveStep = finite.refine((s) => s > 0, 'step must be > 0');

const Distribution = z.object({
  constant: z.json().optional(),
  /** With a step: low, low + step, … up to high (the last whole step that fits). */
  uniform: z
    .object({ low: finite, high: finite, step: positiveStep.nullish().transform((v) => v ?? null) })
    .refine((r) => r.low < r.high, { message: 'low must be less than high', path: ['low'] })
    .optional(),
  logUniform: z
    .object({ low: finite, high: finite, step: z.number().nullish() })
    .refine((r) => r.low < r.high, { message: 'low must be less than high', path: ['low'] })
    .refine((r) => r.low > 0, { message: 'a log-uniform range must be positive (low > 0)', path: ['low'] })
    .refine((r) => r.step == null, { message: 'a log-uniform range takes no step', path: ['step'] })
    .transform(({ low, high }) => ({ low, high }))
    .optional(),
  intUniform: z
    .object({ low: z.number().int(), high: z.number().int(), step: positiveInt.default(1) })
    .refine((r) => r.low < r.high, { message: 'low must be less than high', path: ['low'] })
    .optional(),
  /** Integers drawn uniformly in log space (Optuna's IntDistribution with log=True): step 1 only. */
  intLogUniform: z
    .object({ low: z.number().int(), high: z.number().int(), step: z.literal(1).default(1) })
    .refine((r) => r.low < r.high, { message: 'low must be less than high', path: ['low'] })
    .refine((r) => r.low >= 1, { message: 'a log-uniform range must be positive (low >= 1)', path: ['low'] })
    .transform(({ low, high }) => ({ low, high }))
    .optional(),
  normal: z.object({ mean: finite, std: finite.refine((s) => s > 0, 'std must be > 0') }).optional(),
  logNormal: z.object({ mean: finite, std: finite.refine((s) => s > 0, 'std must be > 0') }).optional(),
  choice: z
    .object({
      values: z.array(z.json()).min(1, 'a choice needs at least one value'),
      weights: z.array(finite.refine((w) => w >= 0, 'weights must be >= 0')).nullish(),
    })
    .refine((c) => !c.weights || c.weights.length === c.values.length, {
      message: 'weights must have one entry per value',
      path: ['weights'],
    })
    .refine((c) => !c.weights || c.weights.reduce((a, b) => a + b, 0) > 0, {
      message: 'weights must not all be zero',
      path: ['weights'],
    })
    .transform((c) => ({ values: c.values, weights: c.weights ?? null }))
    .optional(),
});
// GraphQL's @oneOf has already checked that exactly one of them is given.
export type Distribution = z.output<typeof Distribution>;

function uniqueNames<T extends { name: string }>(items: T[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: 'custom', message: `parameter ${item.name} is given twice`, path: [i, 'name'] });
    }
    seen.add(item.name);
  });
}

/** The limits an experiment's settings are checked against. */
export type SettingsLimits = Pick<
  Limits,
  | 'idLength'
  | 'gridPoints'
  | 'populationSize'
  | 'tpeTrials'
  | 'nameLength'
  | 'reasonLength'
  | 'labelsPerJob'
  | 'labelLength'
  | 'hyperparametersBytes'
>;

/** A new experiment's settings, bounded by `limits`; parse with it to fill in the defaults. */
export function experimentSettings(limits: SettingsLimits) {
  const parameterName = z.string().min(1).max(limits.idLength);
  const Parameter = z.object({ name: parameterName, distribution: Distribution });
  const Space = z.array(Parameter).min(1, 'the space needs at least one parameter').max(100).superRefine(uniqueNames);

  const GridSpace = z
    .array(z.object({ name: parameterName, values: z.array(z.json()).min(1, 'a grid parameter needs values') }))
    .min(1, 'the grid needs at least one parameter')
    .max(100)
    .superRefine(uniqueNames)
    .superRefine((space, ctx) => {
      const points = space.reduce((n, p) => n * p.values.length, 1);
      if (points > limits.gridPoints) {
        ctx.addIssue({ code: 'custom', message: `the grid has ${points} points; the limit is ${limits.gridPoints}` });
      }
    });

  const Pbt = z
    .object({
      populationSize: z.number().int().min(2, 'populationSize must be at least 2').max(limits.populationSize),
      initial: Space,
      exploit: z.object({
        truncation: z
          .object({
            fraction: z
              .number()
              .default(0.2)
              .refine((f) => f > 0 && f <= 0.5, 'fraction must be in (0, 0.5]'),
          })
          .optional(),
        tournament: z
          .object({ size: z.number().int().min(2, 'a tournament needs at least 2 members').default(2) })
          .optional(),
      }),
      explore: z
        .array(
          z.object({
            parameter: parameterName,
            strategy: z.object({
              perturb: z
                .object({
                  factors: z
                    .array(finite.refine((f) => f > 0, 'factors must be > 0'))
                    .min(1, 'perturb needs at least one factor')
                    .default([0.8, 1.2]),
                })
                .optional(),
              resample: z
                .object({
                  probability: z
                    .number()
                    .default(0.25)
                    .refine((p) => p >= 0 && p <= 1, 'probability must be in [0, 1]'),
                  distribution: Distribution,
                })
                .optional(),
            }),
          }),
        )
        .nullish()
        .transform((e) => e ?? []),
      maxGenerations: positiveInt.nullish().transform((v) => v ?? null),
      seed: z.number().int().nullish(),
    })
    .superRefine((pbt, ctx) => {
      const names = new Set(pbt.initial.map((p) => p.name));
      pbt.explore.forEach((e, i) => {
        if (!names.has(e.parameter)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown parameter ${e.parameter}`,
            path: ['explore', i, 'parameter'],
          });
        }
      });
      const size = pbt.exploit.tournament?.size;
      if (size !== undefined && size > pbt.populationSize) {
        ctx.addIssue({
          code: 'custom',
          message: 'a tournament cannot be larger than the population',
          path: ['exploit', 'tournament', 'size'],
        });
      }
    });

  const Tpe = z.object({
    space: Space.superRefine((space, ctx) =>
      space.forEach((parameter, i) =>
        parameter.distribution.choice?.values.forEach((value, j) => {
          if (JSON.stringify(value).length > TPE_VALUE_JSON_LENGTH) {
            ctx.addIssue({
              code: 'custom',
              message: `a TPE choice is at most ${TPE_VALUE_JSON_LENGTH} characters as JSON`,
              path: [i, 'distribution', 'choice', 'values', j],
            });
          }
        }),
      ),
    ),
    seed: z.number().int().nullish(),
    /** Each proposal reads every trial, so a TPE search is bounded: at most the limit, which is the default. */
    maxJobs: positiveInt
      .max(limits.tpeTrials, `maxJobs is at most ${limits.tpeTrials} for TPE (TRIALOG_LIMIT_TPE_TRIALS)`)
      .nullish()
      .transform((v) => v ?? limits.tpeTrials),
    /** Trials drawn at random (as RANDOM with the same seed) until this many have completed or been pruned. */
    startupTrials: z.number().int().min(1).max(10_000).default(10),
    /** Candidates drawn from the good trials' density per proposal; the one most likely good over bad wins. */
    candidates: z.number().int().min(1).max(1000).default(24),
    /** One joint density over all parameters (Scott's bandwidth) rather than one per parameter. */
    multivariate: z.boolean().default(false),
    /** Running trials (live leases) count as bad, so concurrent proposals spread out. */
    constantLiar: z.boolean().default(true),
    /** Whose TPE to follow: Optuna 4.6's, or a later release's estimator (tpe/versions.ts). */
    version: z.enum(TPE_VERSIONS).default(DEFAULT_TPE_VERSION),
  });

  return z
    .object({
      name: z.string().trim().min(1, 'a name is required').max(limits.nameLength),
      description: z
        .string()
        .max(limits.reasonLength)
        .nullish()
        .transform((v) => v ?? null),
      objective: z
        .object({
          metric: z.string().regex(/^[A-Za-z0-9_.\-/]{1,128}$/, 'must be a metric name'),
          direction: z.enum(['MINIMIZE', 'MAXIMIZE']),
        })
        .nullish()
        .transform((v) => v ?? null),
      scheduler: z.object({
        manual: z.object({ maxJobs: positiveInt.nullish().transform((v) => v ?? null) }).optional(),
        random: z
          .object({
            space: Space,
            seed: z.number().int().nullish(),
            maxJobs: positiveInt.nullish().transform((v) => v ?? null),
          })
          .optional(),
        grid: z.object({ space: GridSpace }).optional(),
        pbt: Pbt.optional(),
        tpe: Tpe.optional(),
      }),
      earlyStopping: z
        .object({
          median: z
            .object({
              startupJobs: z.number().int().min(0).default(5),
              warmupSteps: z.number().int().min(0).default(0),
              intervalSteps: positiveInt.default(1),
              minJobs: positiveInt.default(1),
            })
            .optional(),
          successiveHalving: z
            .object({
              minSteps: positiveInt.default(1),
              reductionFactor: z.number().int().min(2, 'reductionFactor must be at least 2').default(4),
              minEarlyStoppingRate: z.number().int().min(0).max(30).default(0),
              maxSteps: positiveInt.nullish().transform((v) => v ?? null),
            })
            .optional(),
          /** Optuna's HyperbandPruner: maxSteps null is its max_resource "auto". */
          hyperband: z
            .object({
              minSteps: positiveInt.default(1),
              reductionFactor: z.number().int().min(2, 'reductionFactor must be at least 2').default(3),
              maxSteps: positiveInt.nullish().transform((v) => v ?? null),
            })
            .optional(),
        })
        .nullish()
        .transform((v) => v ?? null),
      maxConcurrent: positiveInt.nullish().transform((v) => v ?? null),
      stopThreshold: finite.nullish().transform((v) => v ?? null),
      /** What a worker must offer to run this experiment's trials (each trial's job carries them). */
      labels: z
        .array(z.string().min(1).max(limits.labelLength))
        .max(limits.labelsPerJob)
        .nullish()
        .transform((v) => v ?? []),
      /** The experiment's weight in a worker pool's fair shares (and its trials' job priority). */
      priority: z.number().int().min(1).max(1000).default(1),
      /**
       * The command its trials run (argv), for `trialog worker` serving every experiment: each trial's job
       * carries it in `params.command`, so the log says what ran.
       */
      command: z
        .array(z.string().min(1).max(4096))
        .min(1, 'a command needs at least its program')
        .max(256)
        .nullish()
        .transform((v) => v ?? null)
        .refine(
          (v) => v === null || JSON.stringify(v).length <= limits.hyperparametersBytes,
          'the command is too long',
        ),
    })
    .superRefine((s, ctx) => {
      if (s.earlyStopping && !s.objective) {
        ctx.addIssue({ code: 'custom', message: 'early stopping needs an objective', path: ['earlyStopping'] });
      }
      if (s.stopThreshold !== null && !s.objective) {
        ctx.addIssue({ code: 'custom', message: 'a stop threshold needs an objective', path: ['stopThreshold'] });
      }
      if (s.scheduler.tpe && !s.objective) {
        ctx.addIssue({ code: 'custom', message: 'TPE needs an objective', path: ['scheduler', 'tpe'] });
      }
      if (s.scheduler.pbt && !s.objective) {
        ctx.addIssue({
          code: 'custom',
          message: 'population-based training needs an objective',
          path: ['scheduler', 'pbt'],
        });
      }
      const hb = s.earlyStopping?.hyperband;
      if (hb?.maxSteps != null && hb.maxSteps < hb.minSteps) {
        ctx.addIssue({
          code: 'custom',
          message: 'maxSteps must be at least minSteps',
          path: ['earlyStopping', 'hyperband', 'maxSteps'],
        });
      }
      const sh = s.earlyStopping?.successiveHalving;
      if (sh?.maxSteps != null && sh.maxSteps < sh.minSteps) {
        ctx.addIssue({
          code: 'custom',
          message: 'maxSteps must be at least minSteps',
          path: ['earlyStopping', 'successiveHalving', 'maxSteps'],
        });
      }
    });
}

/** Recorded settings, as ExperimentCreated holds them: the shape alone, whatever the limits are now. */
export const ExperimentSettings = experimentSettings({
  idLength: Infinity,
  gridPoints: Infinity,
  populationSize: Infinity,
  tpeTrials: Infinity,
  nameLength: Infinity,
  reasonLength: Infinity,
  labelsPerJob: Infinity,
  labelLength: Infinity,
  hyperparametersBytes: Infinity,
});
export type ExperimentSettings = z.output<typeof ExperimentSettings>;
export type Parameter = NonNullable<ExperimentSettings['scheduler']['random']>['space'][number];
