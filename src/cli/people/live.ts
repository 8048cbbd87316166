/**
 * What the live commands (`logs -f`, `watch`) are made of: Ctrl-C handling,
 * and a loop over a subscription that also queries whenever it has been
 * quiet for a while.
 *
 * A subscription cannot tell "nothing happened" from "it happened before I
 * was listening" or "while the socket was down": the query in the quiet
 * moments is what notices that a job or an experiment has ended in those
 * cases, and picks up whatever the subscription did not deliver.
 */
import type { RetryPolicy } from '../../client/client.js';
import { EXIT } from '../exit-codes.js';

/**
 * Runs a live command. On Ctrl-C (or SIGTERM) `signal` aborts, and the
 * command exits 130 once its work has wound down; a second Ctrl-C exits at
 * once, should winding down hang.
 */
export async function interruptible(work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.INTERRUPTED);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await work(interrupt.signal);
    return interrupt.signal.aborted ? EXIT.INTERRUPTED : code;
  } catch (error) {
    // A call cut short by the interruption fails; the interruption is the news, not that failure.
    if (interrupt.signal.aborted) return EXIT.INTERRUPTED;
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The retry budget of the queries a live command makes once it is running:
 * someone following a log or a search would rather it rode out a server
 * restart than gave up after the few seconds a one-off command allows.
 */
export const LIVE_RETRY: RetryPolicy = { maxRetryTime: 60_000 };

export type Verdict = 'done' | 'go on';

export interface LiveLoop<T> {
  /** Ends the loop when aborted (Ctrl-C). */
  signal: AbortSignal;
  subscribe(signal: AbortSignal): AsyncGenerator<T>;
  onItem(item: T): Verdict;
  /** Called after `quietMs` without an item. */
  onQuiet(signal: AbortSignal): Promise<Verdict>;
  quietMs: number;
}

/** Runs until `onItem` or `onQuiet` answers 'done', or the signal aborts. */
export async function liveLoop<T>(loop: LiveLoop<T>): Promise<void> {
  if (loop.signal.aborted) return;
  const stop = new AbortController();
  const abort = () => stop.abort();
  loop.signal.addEventListener('abort', abort, { once: true });
  const items = loop.subscribe(stop.signal);
  // Asked for lazily and kept across quiet moments: a next() never raced could reject with nobody listening.
  let pending: Promise<IteratorResult<T>> | undefined;
  try {
    for (;;) {
      pending ??= items.next();
      const next = await nextOrQuiet(pending, loop.quietMs, stop.signal);
      if (stop.signal.aborted) return;
      if (next === QUIET) {
        if ((await loop.onQuiet(stop.signal)) === 'done') return;
        continue;
      }
      if (next.done) {
        // The server ended the subscription (it is shutting down, say): the quiet-time queries carry on alone.
        pending = NEVER;
        continue;
      }
      pending = undefined;
      if (loop.onItem(next.value) === 'done') return;
    }
  } finally {
    loop.signal.removeEventListener('abort', abort);
    // Ends the subscription: the client's subscriptions stop on their signal.
    stop.abort();
  }
}

const QUIET = Symbol('quiet');
const NEVER = new Promise<never>(() => {});

/** The next item; or QUIET after `ms` without one, or as soon as `signal` aborts. */
function nextOrQuiet<T>(
  pending: Promise<IteratorResult<T>>,
  ms: number,
  signal: AbortSignal,
): Promise<IteratorResult<T> | typeof QUIET> {
  let wake = () => {};
  const quiet = new Promise<typeof QUIET>((resolve) => (wake = () => resolve(QUIET)));
  const timer = setTimeout(wake, ms);
  signal.addEventListener('abort', wake, { once: true });
  if (signal.aborted) wake();
  return Promise.race([pending, quiet]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', wake);
  });
}
