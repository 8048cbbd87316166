/**
 * The job mutations' inputs as zod schemas: shapes, ranges and the limits
 * they are built with (src/limits.ts, from the configuration). GraphQL has
 * checked the types already; these check what a type system cannot (sizes,
 * ranges, formats) and fill in defaults, so the command handlers receive
 * plain, trusted values. Built once per set of limits, by `jobInputs`.
 */
import { z } from 'zod';
import { MAX_METRIC_STEP } from '../domain/job/decide.js';
import type { Limits } from '../limits.js';
import { boundedJson } from './validation.js';

const jsonObject = z.record(z.string(), z.json());
const optional = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? null);
const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** A worker's number for a call, increasing per job: a retry with the same number is recognised. */
const sequence = optional(z.number().int().min(0));

/** Different characters a worker-chosen lease token must have at least. */
const MIN_DISTINCT_TOKEN_CHARACTERS = 6;

const metricPoint = {
  name: z.string(),
  value: z.number(),
  step: optional(z.number().int().min(0).max(MAX_METRIC_STEP)),
  timestamp: optional(z.union([z.date().transform((d) => d.toISOString()), z.iso.datetime({ offset: true })])),
};

/** Each job mutation's input schema, bounded by `limits`. */
export function jobInputs(limits: Limits) {
  const id = z.string().min(1).max(limits.idLength);
  const leaseSeconds = z.number().int().min(1).max(limits.leaseSecondsMax);
  const label = z.string().min(1).max(limits.labelLength);
  const lease = { jobId: id, leaseToken: z.string().min(1).max(limits.idLength) };
  return {
    createJob: z.object({
      experimentId: optional(id),
      hyperparameters: optional(boundedJson(jsonObject, limits.hyperparametersBytes)).transform((v) => v ?? {}),
      params: optional(boundedJson(jsonObject, limits.paramsBytes)).transform((v) => v ?? {}),
      algorithmId: optional(id),
      algorithmVersion: optional(z.number().int().min(0)),
      trainingData: optional(boundedJson(z.json(), limits.trainingDataBytes)),
      priority: optional(z.number().int()).transform((v) => v ?? 0),
      labels: optional(z.array(label).max(limits.labelsPerJob)).transform((v) => [...new Set(v ?? [])].sort()),
      maxAttempts: optional(z.number().int().min(1).max(limits.maxAttempts)).transform((v) => v ?? 3),
      idempotencyKey: optional(id),
    }),

    claimJob: z
      .object({
        workerId: id,
        experimentId: optional(id),
        /** A worker pool: a trial of any running experiment whose labels the worker offers. */
        anyExperiment: z
          .boolean()
          .nullish()
          .transform((v) => v ?? false),
        /** With anyExperiment: only experiments that carry the command their trials run. */
        withCommand: z
          .boolean()
          .nullish()
          .transform((v) => v ?? false),
        algorithmIds: optional(z.array(id).max(limits.labelsPerJob)),
        labels: optional(z.array(label).max(limits.labelsPerJob)).transform((v) => v ?? []),
        leaseSeconds: optional(leaseSeconds).transform((v) => v ?? 300),
        /** The worker's own lease token (random, 32 characters or more): a retried claim with it finds the first one's job. */
        leaseToken: optional(
          z
            .string()
            .min(32)
            .max(limits.idLength)
            // A floor, not a measure of randomness: a token of one repeated pattern ('aaaa…', '0101…') is refused. A random
            // one never is (32 random hex digits show fewer than 6 different ones with a chance of about 10^-12).
            .refine((token) => new Set(token).size >= MIN_DISTINCT_TOKEN_CHARACTERS, {
              message: `a lease token must be random: at least ${MIN_DISTINCT_TOKEN_CHARACTERS} different characters`,
            }),
        ),
      })
      .refine((c) => !(c.anyExperiment && c.experimentId !== null), {
        message: 'name an experimentId or ask for anyExperiment, not both',
        path: ['anyExperiment'],
      }),

    heartbeat: z.object({
      ...lease,
      progress: optional(z.number().min(0).max(1)),
      leaseSeconds: optional(leaseSeconds),
    }),

    reportMetric: z.object({ ...lease, ...metricPoint, sequence }),

    reportMetrics: z.object({
      ...lease,
      points: z.array(z.object(metricPoint)).min(1).max(limits.pointsPerReport),
      sequence,
    }),

    appendLog: z
      .object({
        ...lease,
        lines: z
          .array(
            z.string().refine((line) => utf8Bytes(line) <= limits.logLineBytes, {
              message: `a log line is limited to ${limits.logLineBytes} bytes`,
              params: { code: 'TOO_LARGE' },
            }),
          )
          .max(limits.linesPerAppend),
        stream: optional(z.enum(['STDOUT', 'STDERR'])).transform((v) => v ?? 'STDOUT'),
        sequence,
      })
      .refine((input) => input.lines.reduce((sum, line) => sum + utf8Bytes(line), 0) <= limits.logAppendBytes, {
        message: `one appendLog call is limited to ${limits.logAppendBytes} bytes of lines`,
        params: { code: 'TOO_LARGE' },
      }),

    completeJob: z.object({
      ...lease,
      result: optional(boundedJson(jsonObject, limits.resultBytes)),
      artifacts: optional(
        z
          .array(
            z.object({
              name: z.string().min(1).max(limits.idLength),
              uri: z.string().min(1).max(4096),
              sha256: optional(z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')),
              metadata: optional(boundedJson(jsonObject, limits.artifactMetadataBytes)),
            }),
          )
          .max(limits.artifactsPerJob),
      ).transform((v) => v ?? []),
    }),

    failJob: z.object({
      ...lease,
      // Truncated, not refused: losing a failure because its message is long would be worse.
      error: z.string().transform((e) => (e.length > limits.errorLength ? `${e.slice(0, limits.errorLength)}…` : e)),
      retry: optional(z.boolean()).transform((v) => v ?? false),
    }),

    releaseJob: z.object({ ...lease, reason: optional(z.string().max(limits.reasonLength)) }),
    cancelJob: z.object({ jobId: id, reason: optional(z.string().max(limits.reasonLength)) }),
    retryJob: z.object({ jobId: id }),
  };
}

export type JobInputs = ReturnType<typeof jobInputs>;
export type CreateJobInput = z.output<JobInputs['createJob']>;
export type ClaimJobInput = z.output<JobInputs['claimJob']>;
