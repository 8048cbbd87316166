/**
 * The registry's and the mappings' inputs as zod schemas, bounded by the
 * limits they are built with (src/limits.ts, from the configuration).
 */
import { z } from 'zod';
import type { Limits } from '../limits.js';
import { TOO_LARGE, boundedJson, jsonBytes } from './validation.js';

const version = z.number().int().min(0);

const isEmpty = (data: unknown) =>
  data === null ||
  data === '' ||
  (Array.isArray(data) && data.length === 0) ||
  (typeof data === 'object' && data !== null && Object.keys(data).length === 0);

function uniqueBy<T>(key: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(key(item)))
        ctx.addIssue({ code: 'custom', message: `${what} ${key(item)} is given twice`, path: [i] });
      seen.add(key(item));
    });
  };
}

/** Each registry and mapping command's input schema, bounded by `limits`. */
export function mappingInputs(limits: Limits) {
  const id = z.string().min(1).max(limits.idLength);
  return {
    registerAlgorithm: z.object({ interactionId: id, algorithmId: id, algorithmVersion: version }),
    retireAlgorithm: z.object({
      interactionId: id,
      algorithmId: id.nullish().transform((v) => v ?? null),
    }),

    createTrainingJobs: z.object({
      entityId: id,
      entityVersion: version,
      states: z
        .array(
          z.object({
            stateName: id,
            interactionId: id,
            trainingData: boundedJson(z.json(), limits.trainingDataBytes).refine(
              (data) => !isEmpty(data),
              'training data must not be empty',
            ),
          }),
        )
        .min(1, 'give at least one state')
        .max(limits.statesPerCall)
        .superRefine(uniqueBy((s) => s.stateName, 'state'))
        .superRefine((states, ctx) => {
          const bytes = states.reduce((sum, s) => sum + jsonBytes(s.trainingData), 0);
          if (bytes > limits.trainingDataPerCallBytes) {
            ctx.addIssue({
              code: 'custom',
              message: `${bytes} bytes of training data in one call; the limit is ${limits.trainingDataPerCallBytes}`,
              params: TOO_LARGE,
            });
          }
        }),
    }),

    carryMappingsForward: z
      .object({
        entityId: id,
        fromVersion: version,
        toVersion: version,
        states: z
          .array(
            z
              .object({ stateName: id, newStateName: id.nullish() })
              .transform((s) => ({ stateName: s.stateName, newStateName: s.newStateName ?? s.stateName })),
          )
          .min(1, 'give at least one state')
          .max(limits.statesPerCall)
          .superRefine(uniqueBy((s) => s.newStateName, 'new state'))
          .superRefine(uniqueBy((s) => s.stateName, 'state')),
      })
      .refine((input) => input.toVersion > input.fromVersion, {
        message: 'toVersion must be after fromVersion',
        path: ['toVersion'],
      }),

    migrateMappings: z.object({
      entityId: id.nullish().transform((v) => v ?? null),
      entityVersion: version.nullish().transform((v) => v ?? null),
      stateName: id.nullish().transform((v) => v ?? null),
      dryRun: z
        .boolean()
        .nullish()
        .transform((v) => v ?? false),
    }),
  };
}

export type MappingInputs = ReturnType<typeof mappingInputs>;
