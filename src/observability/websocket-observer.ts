/**
 * The operation record (operations.ts) of each graphql-ws operation: made
 * when its `subscribe` message arrives, ended by graphql-ws's hooks. An
 * operation refused in `onSubscribe` (parse or validation errors, FORBIDDEN, a
 * subscription cap) ends at `onError`, as nothing else follows for it; one
 * that ran ends at `onComplete`, which graphql-ws calls for every operation
 * it executed: a single result sent, a stream that ended, failed, or was
 * stopped by the client or by the socket closing.
 */
import type { ServerOptions } from 'graphql-ws';
import { isAsyncIterable } from '@envelop/core';
import { correlationIdFrom, CORRELATION_HEADER } from '../graphql/correlation-plugin.js';
import type { Extra } from '../websocket/graphql-ws-server.js';
import { OperationRecord, type OperationObserver } from './operations.js';

export function observedOverWebSocket<P extends Record<string, unknown>>(
  observer: OperationObserver,
  byPayload: WeakMap<object, OperationRecord>,
  actorOf: (authorization: string | undefined) => string,
  options: ServerOptions<P, Extra>,
): ServerOptions<P, Extra> {
  // graphql-ws hands every hook of one operation the same payload object.
  const executed = new WeakSet<OperationRecord>();
  const finish = (ctx: { connectionParams?: Readonly<P> | undefined; extra: Extra }, record: OperationRecord) => {
    const authorization = ctx.connectionParams?.authorization;
    record.actor ??= actorOf(typeof authorization === 'string' ? authorization : undefined);
    record.correlationId ??= correlationIdFrom(ctx.extra.request.headers[CORRELATION_HEADER] as string | undefined);
    observer.finish(record);
  };
  return {
    ...options,
    onSubscribe: async (ctx, id, payload) => {
      const record = new OperationRecord('ws');
      if (typeof payload.operationName === 'string') record.name = payload.operationName;
      byPayload.set(payload, record);
      return options.onSubscribe?.(ctx, id, payload);
    },
    onOperation: async (ctx, id, payload, args, result) => {
      const record = byPayload.get(payload);
      if (record) {
        executed.add(record);
        if (isAsyncIterable(result)) observer.streaming(record);
        else record.noteErrors((result as { errors?: [] }).errors);
      }
      return options.onOperation?.(ctx, id, payload, args, result);
    },
    onNext: async (ctx, id, payload, args, result) => {
      byPayload.get(payload)?.noteErrors((result as { errors?: [] }).errors);
      return options.onNext?.(ctx, id, payload, args, result);
    },
    onError: async (ctx, id, payload, errors) => {
      const record = byPayload.get(payload);
      if (record) {
        record.noteErrors(errors);
        if (!executed.has(record)) finish(ctx, record);
      }
      return options.onError?.(ctx, id, payload, errors);
    },
    onComplete: async (ctx, id, payload) => {
      const record = byPayload.get(payload);
      if (record) finish(ctx, record);
      return options.onComplete?.(ctx, id, payload);
    },
  };
}
