/**
 * The in-process fan-out of the global log to live subscriptions. The
 * projection runner publishes each batch after the read models include it;
 * every subscriber has its own queue, bounded in events and in bytes, and one
 * that falls too far behind is ended with an error (its subscription names
 * where to resume) instead of growing the server's memory.
 *
 * The transports stop pulling from a subscription whose client does not read
 * (websocket-flow.ts; server.ts on SSE), so what a stalled client has not read
 * waits here, where it is counted, and not in a socket buffer.
 */
import { DomainError } from './domain/errors.js';
import { eventWeight } from './event-weight.js';
import type { RecordedEvent } from './store/port.js';

export const DEFAULT_SUBSCRIBER_BUFFER = 10_000;
export const DEFAULT_SUBSCRIBER_BUFFER_BYTES = 32 * 1024 * 1024;

export interface SubscriberBacklogLimits {
  /** Events one subscriber may have waiting (TRIALOG_MAX_SUBSCRIBER_BACKLOG). */
  maxEvents: number;
  /** Bytes of events one subscriber may have waiting (TRIALOG_MAX_SUBSCRIBER_BACKLOG_BYTES). */
  maxBytes: number;
}

export const defaultSubscriberBacklog: SubscriberBacklogLimits = {
  maxEvents: DEFAULT_SUBSCRIBER_BUFFER,
  maxBytes: DEFAULT_SUBSCRIBER_BUFFER_BYTES,
};

/**
 * Why the feed ended a subscription its consumer had not closed. The
 * subscriptions catch it and end saying where to resume (`resumableEnd`),
 * with `code` as the error's contract code.
 */
export abstract class SubscriberEndedError extends Error {
  abstract readonly code: 'TOO_LARGE' | 'UNAVAILABLE';
}

export class SubscriberTooSlowError extends SubscriberEndedError {
  readonly code = 'TOO_LARGE';
  constructor(readonly bound: string) {
    super(`the subscriber fell more than ${bound} behind and was closed`);
    this.name = 'SubscriberTooSlowError';
  }
}

/** Every subscription is ended so when the server shuts down (`LiveFeed.endAll`). */
export class ServerShuttingDownError extends SubscriberEndedError {
  readonly code = 'UNAVAILABLE';
  constructor() {
    super('the server is shutting down');
    this.name = 'ServerShuttingDownError';
  }
}

/**
 * The error a subscription ends with when the feed ended it: its code, what
 * happened, how to pick up where it was, and that position as details. Any
 * other error is passed through as it is.
 */
export function resumableEnd(error: unknown, how: string, details: Record<string, unknown> = {}): unknown {
  if (!(error instanceof SubscriberEndedError)) return error;
  return new DomainError(error.code, `${error.message}: ${how}`, details);
}

export interface LiveSubscription extends AsyncIterableIterator<RecordedEvent> {
  close(): void;
  /**
   * True once its consumer closed it (not when it was ended for falling
   * behind): a subscription that reads a backlog before going live checks it
   * between results, since a consumer may have asked for results ahead and an
   * async generator serves those before a `return()` that follows them.
   */
  readonly closed: boolean;
  /** The error the feed ended it with (too slow, shutting down), once it has: a backlog reader stops at it. */
  readonly endedWith: Error | undefined;
}

/** What subscribers have waiting now, for metrics: their count, the sum and the largest, in events and bytes. */
export interface BacklogStats {
  subscribers: number;
  events: number;
  bytes: number;
  maxEvents: number;
  maxBytes: number;
}

export class LiveFeed {
  private readonly listeners = new Set<(batch: readonly RecordedEvent[]) => void>();
  private readonly backlogs = new Set<{ readonly events: number; readonly bytes: number }>();
  private readonly limits: SubscriberBacklogLimits;
  private readonly onTooSlow: (() => void) | undefined;

  constructor(
    limits: { maxEvents?: number | undefined; maxBytes?: number | undefined } = {},
    hooks: { onSubscriberTooSlow?: () => void } = {},
  ) {
    this.limits = {
      maxEvents: limits.maxEvents ?? defaultSubscriberBacklog.maxEvents,
      maxBytes: limits.maxBytes ?? defaultSubscriberBacklog.maxBytes,
    };
    this.onTooSlow = hooks.onSubscriberTooSlow;
  }

  /** Read at scrape time: one pass over the subscribers, nothing kept up to date per event. */
  backlogStats(): BacklogStats {
    const stats = { subscribers: this.backlogs.size, events: 0, bytes: 0, maxEvents: 0, maxBytes: 0 };
    for (const { events, bytes } of this.backlogs) {
      stats.events += events;
      stats.bytes += bytes;
      stats.maxEvents = Math.max(stats.maxEvents, events);
      stats.maxBytes = Math.max(stats.maxBytes, bytes);
    }
    return stats;
  }

  /** Each subscriber's way to end it with an error (what it had waiting is dropped). */
  private readonly enders = new Set<(error: Error) => void>();
  private endedWith: Error | undefined;

  /**
   * Ends every subscription with `error`, and every one opened from now on
   * at once: for a server shutting down, whose subscribers then say where to
   * resume. Returns how many were ended.
   */
  endAll(error: Error): number {
    this.endedWith = error;
    const ended = this.enders.size;
    for (const end of [...this.enders]) end(error);
    return ended;
  }

  publish(batch: readonly RecordedEvent[]): void {
    for (const listener of this.listeners) listener(batch);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Events published from now on that pass `accept`. */
  subscribe(accept: (event: RecordedEvent) => boolean = () => true): LiveSubscription {
    const { maxEvents, maxBytes } = this.limits;
    const queue: RecordedEvent[] = [];
    let queuedBytes = 0;
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: Error | undefined;

    const listener = (batch: readonly RecordedEvent[]) => {
      // Bytes are judged on what is still waiting from earlier batches: a
      // subscriber that keeps up is never ended because one batch (which the
      // runner holds in memory anyway) is large.
      const bytesBehind = queuedBytes;
      for (const event of batch) {
        if (!accept(event)) continue;
        queue.push(event);
        queuedBytes += eventWeight(event);
      }
      if (queue.length > maxEvents) fail(new SubscriberTooSlowError(`${maxEvents} events`));
      else if (bytesBehind > maxBytes) fail(new SubscriberTooSlowError(`${sizeInWords(maxBytes)} of events`));
      wake?.();
    };
    const fail = (error: Error) => {
      failure = error;
      this.onTooSlow?.();
      // What it had waiting is dropped at once: that is the memory this bound is for.
      queue.length = 0;
      queuedBytes = 0;
      end();
    };
    const backlog = {
      get events() {
        return queue.length;
      },
      get bytes() {
        return queuedBytes;
      },
    };
    const end = () => {
      ended = true;
      this.listeners.delete(listener);
      this.enders.delete(fail);
      this.backlogs.delete(backlog);
      wake?.();
    };
    if (this.endedWith) fail(this.endedWith);
    else {
      this.listeners.add(listener);
      this.enders.add(fail);
      this.backlogs.add(backlog);
    }

    let closedByConsumer = false;
    const close = () => {
      closedByConsumer = true;
      end();
    };
    const subscription: LiveSubscription = {
      [Symbol.asyncIterator]: () => subscription,
      get closed() {
        return closedByConsumer;
      },
      get endedWith() {
        return failure;
      },
      async next(): Promise<IteratorResult<RecordedEvent>> {
        while (queue.length === 0 && !ended) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (queue.length > 0) {
          const event = queue.shift()!;
          queuedBytes -= eventWeight(event);
          return { value: event, done: false };
        }
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      async return(): Promise<IteratorResult<RecordedEvent>> {
        close();
        return { value: undefined, done: true };
      },
      close,
    };
    return subscription;
  }
}

function sizeInWords(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}
