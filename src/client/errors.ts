/**
 * What a Trialog call can fail with, as types a caller can branch on.
 *
 * - `TrialogApiError` (and one subclass per contract code): the server
 *   answered and refused. Retrying the same call gives the same answer, so
 *   the client never retries these.
 * - `NetworkError`: the server could not be reached or did not answer in
 *   time. The call may or may not have taken effect; the client retries these
 *   with backoff (calls that must not repeat carry a `sequence` or an
 *   idempotency key, so the server recognises the repeat).
 */

import { ERROR_CODES, type ErrorCode } from '../domain/errors.js';

export { ERROR_CODES, type ErrorCode };

export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown> & { code?: string };
}

export class TrialogApiError extends Error {
  override readonly name: string = 'TrialogApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Every error of the response, as the server sent them. */
    readonly errors: readonly GraphQLErrorShape[] = [],
  ) {
    super(message);
  }
}

export class BadUserInputError extends TrialogApiError {
  override readonly name = 'BadUserInputError';
}
export class NotFoundError extends TrialogApiError {
  override readonly name = 'NotFoundError';
}
export class ConflictError extends TrialogApiError {
  override readonly name = 'ConflictError';
}
/** The lease token is stale or unknown: another worker holds the job, or it ended. Stop working on it. */
export class LeaseLostError extends TrialogApiError {
  override readonly name = 'LeaseLostError';
}
export class UnauthenticatedError extends TrialogApiError {
  override readonly name = 'UnauthenticatedError';
}
export class ForbiddenError extends TrialogApiError {
  override readonly name = 'ForbiddenError';
}
export class TooLargeError extends TrialogApiError {
  override readonly name = 'TooLargeError';
}
export class InternalServerError extends TrialogApiError {
  override readonly name = 'InternalServerError';
}
/** The server is shutting down: nothing was done; a subscription so ended says where to resume. */
export class UnavailableError extends TrialogApiError {
  override readonly name = 'UnavailableError';
}

const BY_CODE: Record<
  ErrorCode,
  new (code: ErrorCode, message: string, errors: readonly GraphQLErrorShape[]) => TrialogApiError
> = {
  BAD_USER_INPUT: BadUserInputError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  LEASE_LOST: LeaseLostError,
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: ForbiddenError,
  TOO_LARGE: TooLargeError,
  INTERNAL_SERVER_ERROR: InternalServerError,
  UNAVAILABLE: UnavailableError,
};

const isErrorCode = (code: unknown): code is ErrorCode => (ERROR_CODES as readonly unknown[]).includes(code);

/** The typed error for a response's errors (the first error's code decides; an unknown code counts as internal). */
export function apiErrorFrom(errors: readonly GraphQLErrorShape[]): TrialogApiError {
  const first = errors[0];
  const code = isErrorCode(first?.extensions?.code) ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  const message = errors.map((e) => e.message).join('; ') || 'the server answered with an error and no message';
  return new BY_CODE[code](code, message, errors);
}

/** True when `error` is a Trialog API error with this code: `if (hasCode(e, 'LEASE_LOST')) …`. */
export function hasCode(error: unknown, code: ErrorCode): error is TrialogApiError {
  return error instanceof TrialogApiError && error.code === code;
}

/** The server was unreachable, answered 5xx, or did not answer in time. */
export class NetworkError extends Error {
  override readonly name: string = 'NetworkError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/**
 * The server answered, but not as a GraphQL endpoint: nothing serves GraphQL
 * at that path (404, 405, 410). "Unreachable" would send the reader looking
 * at the network instead of at the URL. A kind of NetworkError (the call did
 * not reach Trialog), retried only by calls that ride out anything (see
 * http.ts): a proxy may answer 404 for a moment while it is reconfigured.
 */
export class NoEndpointError extends NetworkError {
  override readonly name = 'NoEndpointError';
  constructor(
    readonly url: string,
    readonly status: number,
    statusText: string,
  ) {
    super(
      `no GraphQL endpoint at ${url}: the server answered ${status}${statusText ? ` ${statusText}` : ''} at that path (is the path right? the default is /graphql)`,
    );
  }
}
