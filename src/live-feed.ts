/**
 * The in-process fan-out of the global log to live subscriptions. The
 * projection runner publishes each batch after the read models include it;
 * every subscriber has its own bounded queue, and one that falls too far
 * behind is ended with an error (its subscription names where to resume)
 * instead of growing the server's memory.
 */
import type { RecordedEvent } from './store/port.js';

export const DEFAULT_SUBSCRIBER_BUFFER = 10_000;

export class SubscriberTooSlowError extends Error {
  constructor(maxBuffered: number) {
    super(`the subscriber fell more than ${maxBuffered} events behind and was closed`);
    this.name = 'SubscriberTooSlowError';
  }
}

export interface LiveSubscription extends AsyncIterableIterator<RecordedEvent> {
  close(): void;
}

export class LiveFeed {
  private readonly listeners = new Set<(batch: readonly RecordedEvent[]) => void>();

  /** `maxBuffered`: events one subscriber may have waiting before it is ended (TRIALOG_MAX_SUBSCRIBER_BACKLOG). */
  constructor(private readonly maxBuffered = DEFAULT_SUBSCRIBER_BUFFER) {}

  publish(batch: readonly RecordedEvent[]): void {
    for (const listener of this.listeners) listener(batch);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Events published from now on that pass `accept`. */
  subscribe(accept: (event: RecordedEvent) => boolean = () => true, maxBuffered = this.maxBuffered): LiveSubscription {
    const queue: RecordedEvent[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: Error | undefined;

    const listener = (batch: readonly RecordedEvent[]) => {
      for (const event of batch) if (accept(event)) queue.push(event);
      if (queue.length > maxBuffered) {
        failure = new SubscriberTooSlowError(maxBuffered);
        queue.length = 0;
        end();
      }
      wake?.();
    };
    const end = () => {
      ended = true;
      this.listeners.delete(listener);
      wake?.();
    };
    this.listeners.add(listener);

    const subscription: LiveSubscription = {
      [Symbol.asyncIterator]: () => subscription,
      async next(): Promise<IteratorResult<RecordedEvent>> {
        while (queue.length === 0 && !ended) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (queue.length > 0) {
          return { value: queue.shift()!, done: false };
        }
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      async return(): Promise<IteratorResult<RecordedEvent>> {
        end();
        return { value: undefined, done: true };
      },
      close: end,
    };
    return subscription;
  }
}
