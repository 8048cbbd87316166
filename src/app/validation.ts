/**
 * Turns zod failures into the API's error codes: a size or count over a limit
 * is TOO_LARGE, anything else BAD_USER_INPUT, and the message names the field.
 */
import { z } from 'zod';
import { DomainError } from '../domain/errors.js';

/** Marks a custom issue as a limit, so it maps to TOO_LARGE. */
export const TOO_LARGE = { code: 'TOO_LARGE' } as const;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  const message = field ? `${field}: ${issue.message}` : issue.message;
  // A string, list or payload over its limit is TOO_LARGE; a number out of range is just bad input.
  const tooLarge =
    (issue.code === 'too_big' && issue.origin !== 'number' && issue.origin !== 'bigint') ||
    (issue.code === 'custom' && issue.params?.code === TOO_LARGE.code);
  return fail(tooLarge ? 'TOO_LARGE' : 'BAD_USER_INPUT', message, field);
}

function fail(code: 'TOO_LARGE' | 'BAD_USER_INPUT', message: string, field: string): never {
  throw new DomainError(code, message, field ? { field } : {});
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A JSON value whose encoding stays within `maxBytes`. */
export function boundedJson<S extends z.ZodType>(schema: S, maxBytes: number) {
  return schema.superRefine((value, ctx) => {
    const bytes = jsonBytes(value);
    if (bytes > maxBytes) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${bytes} bytes of JSON; the limit is ${maxBytes}`,
        params: TOO_LARGE,
      });
    }
  });
}
