/** The registry's and the mappings' inputs as zod schemas, with the limits of src/limits.ts. */
import { z } from 'zod';
import { limits } from '../limits.js';
import { TOO_LARGE, boundedJson, jsonBytes } from './validation.js';

const id = z.string().min(1).max(limits.idLength);
const version = z.number().int().min(0);

export const RegisterAlgorithmInput = z.object({ interactionId: id, algorithmId: id, algorithmVersion: version });
export const RetireAlgorithmInput = z.object({
  interactionId: id,
  algorithmId: id.nullish().transform((v) => v ?? null),
});

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

export const CreateTrainingJobsInput = z.object({
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
});

export const CarryMappingsForwardInput = z
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
  });

export const MigrateMappingsInput = z.object({
  entityId: id.nullish().transform((v) => v ?? null),
  entityVersion: version.nullish().transform((v) => v ?? null),
  stateName: id.nullish().transform((v) => v ?? null),
  dryRun: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
});
