/**
 * The event store could not be reached (or refused Trialog) while the server
 * started: the server says so in one line and exits 1, so that a supervisor
 * restarting on failure tries again later. Kept free of any client library,
 * so that src/main.ts can recognise it without loading one.
 */
export class StoreUnreachableError extends Error {
  override name = 'StoreUnreachableError';
}

/** An error's message on one line (gRPC messages carry newlines and trailing notes). */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').trim();
}
