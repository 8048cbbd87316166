/**
 * One GraphQL request over HTTP, and the retry policy around it: network
 * failures (refused, reset, timed out, 502/503/504) are retried with
 * exponential backoff and jitter; an answer from the server, error or not,
 * is final. A path with no GraphQL endpoint (404…) is final too, unless the
 * call's retry budget has no end.
 */
import pRetry from 'p-retry';
import { NetworkError, NoEndpointError, apiErrorFrom, type GraphQLErrorShape } from './errors.js';

export interface RetryPolicy {
  /** Give up retrying a network failure after this long (ms). Infinity: until `signal` aborts. Default 30 s. */
  maxRetryTime?: number;
  /** Smallest and largest wait between tries (ms). Defaults 100 and 5,000. */
  minDelay?: number;
  maxDelay?: number;
  /** Called before each wait: for "server unreachable, retrying" messages. */
  onRetry?: (error: NetworkError, attempt: number) => void;
}

export interface HttpOptions {
  url: string;
  /** An API key (`trialog_…`), sent as `authorization: Bearer …`. */
  key?: string;
  /** Time allowed for one request (ms). Default 30 s. */
  timeout?: number;
  retry?: RetryPolicy;
}

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
}

/** Per call: how to stop it. */
export interface CallControl {
  /** Aborts the request in flight and the retries. */
  signal?: AbortSignal;
  /**
   * Stops further retries but lets a request in flight finish. For calls
   * whose answer must not be thrown away once the server acted (a claim).
   */
  stopRetrying?: AbortSignal;
  retry?: RetryPolicy;
}

/** Sends one request; answers the data, or throws a typed API error or a NetworkError (after retries). */
export async function graphqlRequest<T>(
  options: HttpOptions,
  request: GraphQLRequest,
  call: CallControl = {},
): Promise<T> {
  const policy = { ...options.retry, ...call.retry };
  const maxRetryTime = policy.maxRetryTime ?? 30_000;
  // A wrong path is said at once, except to calls that ride out anything (a worker's claims and reports):
  // they ride out a proxy answering 404 for a moment too.
  const retried = (error: unknown) =>
    error instanceof NetworkError && (!(error instanceof NoEndpointError) || maxRetryTime === Number.POSITIVE_INFINITY);
  return pRetry(() => sendOnce<T>(options, request, call.signal), {
    retries: Number.POSITIVE_INFINITY,
    maxRetryTime,
    minTimeout: policy.minDelay ?? 100,
    maxTimeout: policy.maxDelay ?? 5_000,
    factor: 2,
    randomize: true,
    signal: call.signal,
    shouldRetry: ({ error }) => retried(error) && !call.stopRetrying?.aborted,
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (error instanceof NetworkError) policy.onRetry?.(error, attemptNumber);
    },
  });
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
/** A server that answers these at a path has no GraphQL endpoint there: final, not retried. */
const NO_ENDPOINT_STATUS = new Set([404, 405, 410]);

async function sendOnce<T>(options: HttpOptions, request: GraphQLRequest, signal?: AbortSignal): Promise<T> {
  // One controller per request, tied to the caller's signal by a listener removed afterwards:
  // AbortSignal.any would leave a little memory on a long-lived signal for every call (Node 20).
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('no answer in time', 'TimeoutError')),
    options.timeout ?? 30_000,
  );
  const forward = () => controller.abort(signal!.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  let response: Response;
  let text: string;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(options.key && { authorization: `Bearer ${options.key}` }),
      },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    // The caller's own abort is not a network failure: let it end the retries.
    if (signal?.aborted) throw signal.reason ?? error;
    throw new NetworkError(`cannot reach ${options.url}: ${describe(controller.signal.reason ?? error)}`, error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
  if (RETRYABLE_STATUS.has(response.status)) {
    throw new NetworkError(`${options.url} answered ${response.status} ${response.statusText}`);
  }
  let body: { data?: T | null; errors?: GraphQLErrorShape[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    if (NO_ENDPOINT_STATUS.has(response.status))
      throw new NoEndpointError(options.url, response.status, response.statusText);
    // Not GraphQL at all (a proxy's page, a truncated body): the server we want did not answer.
    throw new NetworkError(
      `${options.url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  if (body.errors?.length) throw apiErrorFrom(body.errors);
  if (body.data == null && NO_ENDPOINT_STATUS.has(response.status))
    throw new NoEndpointError(options.url, response.status, response.statusText);
  if (body.data == null)
    throw new NetworkError(`${options.url} answered ${response.status} with neither data nor errors`);
  return body.data;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  // fetch hides the socket's error (ECONNREFUSED, ECONNRESET) in its cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
