/**
 * Subscriptions over graphql-ws that survive the server going away.
 *
 * graphql-ws can reconnect by itself, but it would resubscribe with the
 * variables of the first call: a log followed from offset 0 would be sent
 * again from 0. Here each (re)subscription asks the caller for its variables,
 * so it resumes after the last item seen, and only failures that repeating
 * cannot fix (bad input, no key, no right) end the iteration.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { NetworkError, TrialogApiError, apiErrorFrom, type GraphQLErrorShape } from './errors.js';

export interface SubscriptionOptions {
  /** Called when the subscription is (re)established after a failure: time to re-check what may have been missed. */
  onResubscribe?: () => void;
  /** Called before each wait to reconnect. */
  onRetry?: (error: Error, attempt: number) => void;
  signal?: AbortSignal;
}

export function webSocketClient(httpUrl: string, key: string | undefined): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    // Reconnection is ours (see above); the socket closes once nothing listens.
    retryAttempts: 0,
    connectionParams: key ? { authorization: `Bearer ${key}` } : undefined,
  });
}

/** Close codes after which reconnecting cannot help (graphql-ws's and the server's own). */
const FINAL_CLOSE_CODES: Record<number, TrialogApiError['code']> = {
  4400: 'BAD_USER_INPUT',
  4401: 'UNAUTHENTICATED',
  4403: 'FORBIDDEN',
};

const RESUMABLE_CODES = new Set<TrialogApiError['code']>(['TOO_LARGE', 'UNAVAILABLE']);

export async function* resumingSubscription<T>(
  client: Client,
  request: () => { query: string; variables: Record<string, unknown> },
  options: SubscriptionOptions = {},
): AsyncGenerator<T> {
  let failures = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    const iterator = client.iterate<T>(request());
    const abort = () => void iterator.return?.();
    options.signal?.addEventListener('abort', abort, { once: true });
    const resubscribed = failures > 0;
    try {
      // Only once the server is back (the first answer, or the connection acknowledged) is there
      // anything to re-check: not at every attempt while it is away.
      const unlisten = resubscribed ? client.on('connected', () => options.onResubscribe?.()) : undefined;
      try {
        for await (const result of iterator) {
          if (result.errors?.length) throw apiErrorFrom(result.errors);
          failures = 0;
          yield result.data as T;
        }
      } finally {
        unlisten?.();
      }
      return; // the server completed the subscription
    } catch (error) {
      const failure = classify(error);
      // A subscriber that fell too far behind is ended with TOO_LARGE, and one whose server shut down with
      // UNAVAILABLE: resuming from where it stood is the remedy.
      if (failure instanceof TrialogApiError && !RESUMABLE_CODES.has(failure.code)) throw failure;
      if (options.signal?.aborted) return;
      failures++;
      options.onRetry?.(failure, failures);
      await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)) * (1 + Math.random()), options.signal);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }
}

function classify(error: unknown): Error {
  if (error instanceof TrialogApiError) return error;
  if (Array.isArray(error)) return apiErrorFrom(error as GraphQLErrorShape[]);
  const closed = error as { code?: unknown; reason?: unknown };
  if (typeof closed?.code === 'number') {
    const reason =
      typeof closed.reason === 'string' && closed.reason ? closed.reason : `socket closed with ${closed.code}`;
    const final = FINAL_CLOSE_CODES[closed.code];
    return final ? apiErrorFrom([{ message: reason, extensions: { code: final } }]) : new NetworkError(reason, error);
  }
  return new NetworkError(error instanceof Error ? error.message : String(error), error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
