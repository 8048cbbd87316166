/**
 * How errors leave the API: a DomainError keeps its message and code, a
 * GraphQLError raised by graphql-js (a bad query or variable) is bad input,
 * and anything else is masked as INTERNAL_SERVER_ERROR and logged.
 */
import { GraphQLError } from 'graphql';
import { DomainError } from '../domain/errors.js';

export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof DomainError) {
    return rewrap(error, original.message, { code: original.code, ...original.details });
  }
  if (original instanceof GraphQLError) {
    // Raised by graphql-js itself or by us on purpose: keep it, make sure it has a code.
    if (typeof original.extensions.code === 'string') return error as Error;
    return rewrap(error, original.message, { code: 'BAD_USER_INPUT' });
  }
  console.error('trialog: unexpected error', original);
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

/** A part of the contract whose implementation has not landed yet. */
export function notImplemented(field: string, issue: number): never {
  throw new GraphQLError(`${field} is not available yet: it arrives with issue #${issue}`, {
    extensions: { code: 'NOT_IMPLEMENTED' },
  });
}
