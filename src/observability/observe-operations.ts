/**
 * Everything the server needs to observe its GraphQL operations, in one call:
 * the yoga plugin (HTTP, SSE, and the envelop hooks graphql-ws runs through)
 * and the wrapper of graphql-ws's hooks, sharing one observer.
 */
import type { ServerOptions } from 'graphql-ws';
import type { Plugin } from 'graphql-yoga';
import type { Trialog } from '../trialog.js';
import type { Extra } from '../websocket/graphql-ws-server.js';
import { useOperationObserver } from './graphql-observer-plugin.js';
import { OperationObserver } from './operations.js';
import { observedOverWebSocket } from './websocket-observer.js';

export interface OperationObservation {
  plugin: Plugin;
  overWebSocket<P extends Record<string, unknown>>(options: ServerOptions<P, Extra>): ServerOptions<P, Extra>;
}

export function observeOperations(trialog: Trialog): OperationObservation {
  const observer = new OperationObserver(trialog.logger, trialog.metrics);
  // Only for operations refused before their context was built; the others take it from the context.
  const actorOf = (authorization: string | null | undefined) => {
    const principal = trialog.access.authenticate(authorization);
    return principal instanceof Error ? 'anonymous' : principal.name;
  };
  const { plugin, byPayload } = useOperationObserver(observer, actorOf);
  return {
    plugin,
    overWebSocket: (options) => observedOverWebSocket(observer, byPayload, actorOf, options),
  };
}
