/**
 * Yields to the event loop (its I/O phase included), not just to pending
 * promises: a loop whose awaits all settle at once (writes to a fast reader,
 * synchronous SQLite reads) would otherwise hold up every other request.
 */
export const turnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
