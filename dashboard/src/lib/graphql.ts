import { signal } from '@preact/signals';
import { createClient, type Client } from 'graphql-ws';
import { apiKey, authorizationHeader } from './key';

/** An answer's error, with the contract's `extensions.code` (UNAUTHENTICATED, FORBIDDEN, …). */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

function firstError(errors: readonly GraphQLErrorShape[]): GraphQLRequestError {
  const [first] = errors;
  return new GraphQLRequestError(
    first?.message ?? 'request failed',
    first?.extensions?.code ?? 'INTERNAL_SERVER_ERROR',
  );
}

/** An error as one line for people: the server's message and its code, or what went wrong locally. */
export function describeError(error: unknown): string {
  if (error instanceof GraphQLRequestError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

export type Variables = Record<string, unknown>;

/** A query or mutation over HTTP POST on the same origin (JSON body: never a CSRF-able "simple" request). */
export async function request<T>(document: string, variables: Variables = {}, signal?: AbortSignal): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...authorizationHeader(),
    },
    body: JSON.stringify({ query: document, variables }),
    signal,
  });
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: GraphQLErrorShape[] } | null;
  if (!body)
    throw new GraphQLRequestError(
      `HTTP ${response.status}`,
      response.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_SERVER_ERROR',
    );
  if (body.errors?.length) throw firstError(body.errors);
  if (body.data === undefined) throw new GraphQLRequestError('no data', 'INTERNAL_SERVER_ERROR');
  return body.data;
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'refused';
/** What the header shows: whether the page's live feeds are flowing. */
export const connectionState = signal<ConnectionState>('connecting');

// Close codes after which retrying cannot help until the person changes the key.
const NOT_RETRIED = new Set([4401, 4403, 4400]);

let client: Client | null = null;
let clientKey: string | null = null;

function socketClient(): Client {
  if (client && clientKey === apiKey.value) return client;
  void client?.dispose();
  clientKey = apiKey.value;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    lazy: true,
    // Retries belong to each live feed (resubscribe from its own position), not to the socket:
    // graphql-ws would resend the original variables and replay from the first position.
    retryAttempts: 0,
    keepAlive: 10_000,
    connectionParams: () => (apiKey.value ? { authorization: `Bearer ${apiKey.value}` } : {}),
    on: {
      connected: () => (connectionState.value = 'live'),
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        connectionState.value = code !== undefined && NOT_RETRIED.has(code) ? 'refused' : 'reconnecting';
      },
    },
  });
  return client;
}

export interface LiveFeed<T> {
  /** The subscription document; its variables come from `variables()` at every (re)subscribe. */
  query: string;
  /** Called before each subscribe: return the position or offset to resume after. */
  variables: () => Variables;
  next: (data: T) => void;
  /** An error the server answered (FORBIDDEN, NOT_FOUND…): the feed stops. */
  error?: (error: GraphQLRequestError) => void;
  /** The server ended the feed (e.g. a finished job's log): it is not resubscribed. */
  complete?: () => void;
}

const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 5000];

/**
 * A subscription that survives lost connections without a gap: after a drop it subscribes again with
 * fresh variables (the caller's last position), after a short backoff, forever unless the key is refused.
 * Returns its stop function.
 */
export function live<T>(feed: LiveFeed<T>): () => void {
  let stopped = false;
  let dispose: (() => void) | null = null;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = () => {
    if (stopped) return;
    dispose = socketClient().subscribe<T>(
      { query: feed.query, variables: feed.variables() },
      {
        next: (message) => {
          if (stopped) return; // a message already in flight when the feed stopped
          failures = 0;
          if (message.errors?.length) {
            // The server refused the operation: the feed ends here, on the server too.
            stopped = true;
            dispose?.();
            feed.error?.(firstError(message.errors));
            return;
          }
          if (message.data) feed.next(message.data);
        },
        error: (error) => {
          if (stopped) return;
          if (Array.isArray(error)) {
            stopped = true;
            return feed.error?.(firstError(error as GraphQLErrorShape[]));
          }
          const code = (error as CloseEvent | undefined)?.code;
          if (code !== undefined && NOT_RETRIED.has(code)) {
            stopped = true;
            return feed.error?.(new GraphQLRequestError('the server refused the key', 'UNAUTHENTICATED'));
          }
          const delay = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)]!;
          failures += 1;
          timer = setTimeout(start, delay * (0.75 + Math.random() / 2));
        },
        complete: () => {
          if (!stopped) feed.complete?.();
        },
      },
    );
  };
  start();
  return () => {
    stopped = true;
    clearTimeout(timer);
    dispose?.();
  };
}

/** A live feed over the event log: each message carries the log position it was read at. */
export interface PositionedFeed<T> extends Omit<LiveFeed<T>, 'variables'> {
  /** The variables for a (re)subscribe resuming after `after`. */
  variables: (after: string | null) => Variables;
  /** The position a message carries: the next resubscribe resumes after it. */
  positionOf: (data: T) => string;
}

/**
 * `live` starting after the log position a first read was consistent with (null: the log was empty, so
 * nothing can be missed), then resuming after the last position delivered. The position is kept as each
 * message arrives, before the caller queues it for the next frame, so a drop mid-frame loses nothing.
 */
export function liveFrom<T>(after: string | null, feed: PositionedFeed<T>): () => void {
  let position = after;
  return live<T>({
    ...feed,
    variables: () => feed.variables(position),
    next: (data) => {
      position = feed.positionOf(data);
      feed.next(data);
    },
  });
}
