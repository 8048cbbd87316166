/**
 * The error codes of the public API contract. Domain and application code
 * throws `DomainError`; the GraphQL layer turns it into `extensions.code`.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'LEASE_LOST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'TOO_LARGE',
  'INTERNAL_SERVER_ERROR',
  // The server is shutting down (or not ready): nothing was done, and the same call to another
  // server, or to this one once it is back, may succeed. A subscription ended so says where to resume.
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** graphql-js copies an original error's `extensions` onto the error it reports. */
  get extensions(): Record<string, unknown> {
    return { code: this.code, ...this.details };
  }
}

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new DomainError('CONFLICT', message, details);
export const notFound = (message: string) => new DomainError('NOT_FOUND', message);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new DomainError('BAD_USER_INPUT', message, details);
export const tooLarge = (message: string, details?: Record<string, unknown>) =>
  new DomainError('TOO_LARGE', message, details);
export const unavailable = (message: string, details?: Record<string, unknown>) =>
  new DomainError('UNAVAILABLE', message, details);
export const leaseLost = (message: string) => new DomainError('LEASE_LOST', message);
