/**
 * The answer a request gets when it is refused before GraphQL runs (at the
 * perimeter, for want of a key, for its size): a GraphQL-over-HTTP body with
 * one error and its contract code, as yoga would have answered it.
 */
import type { ServerResponse } from 'node:http';

export type RefusalCode = 'FORBIDDEN' | 'UNAUTHENTICATED' | 'TOO_LARGE' | 'UNAVAILABLE';

export const errorBody = (message: string, code: RefusalCode): string =>
  JSON.stringify({ errors: [{ message, extensions: { code } }] });

/** Answers `status` with that body and closes the connection: the request's body is not read. */
export function refuseRequest(
  res: ServerResponse,
  status: number,
  code: RefusalCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  res.end(errorBody(message, code));
}
