/**
 * A subscription that outlives its server connection. EventStoreDB's client
 * does not resubscribe: a subscription that fails (server restarted, leader
 * changed, access denied, an internal error on a dying node) or that the
 * server ends is simply over. This one subscribes again after every failure
 * and every end, for as long as it is open, with exponential backoff (and
 * jitter, so that many servers do not come back in step), resuming strictly
 * after the last event it handed out: no gap, no repeat. The backoff starts
 * over once a subscription has stayed up for a while, so that a server which
 * ends subscriptions at once is retried slowly, not in a tight loop.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { EventSubscription, RecordedEvent, SubscriptionState } from '../port.js';

export interface BackoffPolicy {
  /** The first wait (ms). */
  initialMs: number;
  /** No wait is longer (ms). */
  maxMs: number;
  /** A subscription up this long (ms) before it failed starts the backoff over. */
  healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, healthyAfterMs: 60_000 };

/**
 * The wait before retry number `attempt` (0 first): it doubles up to the cap,
 * and a random part ("equal jitter": between half of it and all of it) keeps
 * servers apart while never letting a wait fall near zero.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** One subscription to the server: its events, until it fails or ends. */
export interface SubscriptionAttempt extends AsyncIterable<RecordedEvent> {
  /** Cancels the server's call. */
  close(): Promise<void>;
}

/** The server ended a subscription without an error: as good as one, for the backoff. */
export class SubscriptionEndedError extends Error {
  constructor() {
    super('the server ended the subscription');
    this.name = 'SubscriptionEndedError';
  }
}

export interface ResubscribingOptions {
  /** Exclusive: the position to start after (undefined: the start of the log). */
  after: string | undefined;
  /** Starts one subscription after a position; calls `onLive` once the server has confirmed it. */
  subscribe(after: string | undefined, onLive: () => void): SubscriptionAttempt;
  onStateChange?: (state: SubscriptionState, error?: unknown) => void;
  backoff?: BackoffPolicy;
  /** One line per retry. */
  log?: (line: string) => void;
  /** Seams for tests: the clock, the wait, the jitter. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** An error as one line: its name and message, no stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return String(error);
}

export function resubscribing(options: ResubscribingOptions): EventSubscription {
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
  const log = options.log ?? ((line) => console.warn(line));
  const abort = new AbortController();
  let state: SubscriptionState | undefined;
  let current: SubscriptionAttempt | undefined;
  let last = options.after;

  function setState(next: SubscriptionState, error?: unknown): void {
    if (state === next) return;
    state = next;
    options.onStateChange?.(next, error);
  }

  async function* events(): AsyncGenerator<RecordedEvent> {
    let attempt = 0;
    while (!abort.signal.aborted) {
      let liveSince: number | undefined;
      const goLive = () => {
        liveSince ??= now();
        setState('live');
      };
      const subscription = options.subscribe(last, goLive);
      current = subscription;
      let failure: unknown = new SubscriptionEndedError();
      try {
        for await (const event of subscription) {
          goLive();
          // Each attempt starts after the last event handed out; a server may still repeat it.
          if (last !== undefined && event.position <= last) continue;
          last = event.position;
          yield event;
        }
      } catch (error) {
        failure = error;
      } finally {
        await subscription.close().catch(() => {});
      }
      if (abort.signal.aborted) return;
      if (liveSince !== undefined && now() - liveSince >= policy.healthyAfterMs) attempt = 0;
      const delay = backoffDelay(attempt++, policy, options.random);
      setState('retrying', failure);
      log(
        `trialog: event store subscription lost (${describeError(failure)}); ` +
          `resubscribing after ${last ?? 'the start'} in ${delay} ms (retry ${attempt})`,
      );
      try {
        await sleep(delay, abort.signal);
      } catch {
        return; // closed while waiting
      }
    }
  }

  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      abort.abort();
      await current?.close().catch(() => {});
      await iterator.return(undefined);
    },
  };
}
