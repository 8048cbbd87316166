/**
 * How errors leave the API: a DomainError keeps its message and code, a
 * GraphQLError raised by graphql-js (a bad query or variable) is bad input,
 * and anything else is masked as INTERNAL_SERVER_ERROR (yoga logs the original).
 */
import { GraphQLError } from 'graphql';
import { DomainError } from '../domain/errors.js';

export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  // Expected errors go out as they are (returning the same object also keeps yoga from logging them).
  if (original instanceof DomainError) {
    return error instanceof GraphQLError ? error : rewrap(error, original.message, original.extensions);
  }
  if (original instanceof GraphQLError && typeof original.extensions.code === 'string') return error as Error;
  if (original instanceof GraphQLError && !original.path) {
    // Raised by graphql-js before execution (a variable of the wrong type, say): bad input.
    (original.extensions as Record<string, unknown>).code = 'BAD_USER_INPUT';
    return error as Error;
  }
  // Anything else, including graphql-js errors raised while executing a field
  // (a resolver returned the wrong shape), is a fault of ours: masked.
  // yoga logs the original error when the masked one differs: not logged here again.
  return rewrap(error, message, { code: 'INTERNAL_SERVER_ERROR' });
}

function rewrap(error: unknown, message: string, extensions: Record<string, unknown>): GraphQLError {
  const located = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError(message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { ...extensions },
  });
}
