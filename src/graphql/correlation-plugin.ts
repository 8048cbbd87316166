/**
 * One correlation id per request: taken from the `x-correlation-id` header
 * when the client sends a sane one, made up otherwise, recorded on every event
 * the request causes, and echoed in the response so the two can be matched.
 */
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

export const CORRELATION_HEADER = 'x-correlation-id';
const ids = new WeakMap<Request, string>();

export function correlationIdFrom(given: string | null | undefined): string {
  const trimmed = given?.trim();
  return trimmed && trimmed.length <= 128 && /^[\x21-\x7e]+$/.test(trimmed) ? trimmed : randomUUID();
}

/** The request's correlation id (a fresh one for a request the plugin has not seen). */
export function correlationIdOf(request: Request | undefined): string {
  if (!request) return randomUUID();
  let id = ids.get(request);
  if (!id) ids.set(request, (id = correlationIdFrom(request.headers.get(CORRELATION_HEADER))));
  return id;
}

export function useCorrelationId(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set(CORRELATION_HEADER, correlationIdOf(request));
    },
  };
}
