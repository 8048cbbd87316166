/**
 * Ends a live subscription as soon as its consumer goes away.
 *
 * An async generator parked in `await` does not run its `finally` when
 * `return()` is called: the call just queues behind the pending `next()`.
 * A subscription whose filter matches nothing more (the log of a finished
 * job, say) would then hold its listener forever. This wrapper closes the
 * live source first, which ends the pending `next()`, so the generator
 * finishes at once and its `finally` runs.
 */
export function closingWith<T>(live: { close(): void }, generator: AsyncGenerator<T>): AsyncGenerator<T> {
  const wrapper: AsyncGenerator<T> = {
    next: (...args) => generator.next(...args),
    return: (value) => {
      live.close();
      return generator.return(value);
    },
    throw: (error) => {
      live.close();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => wrapper,
  };
  return wrapper;
}
