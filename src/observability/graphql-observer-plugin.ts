/**
 * Fills each operation's record (operations.ts) from yoga's and envelop's
 * hooks, and ends it over HTTP and SSE:
 *
 * - HTTP: the record starts with the request and ends at yoga's result
 *   processing, which sees every answer, refusals thrown by other plugins
 *   included. This plugin sits after useContractErrorCodes, so the code it
 *   reads is the one the client gets.
 * - SSE: a subscription's record ends when its stream ends (envelop's onEnd),
 *   with the code of the first error it carried.
 * - graphql-ws runs the same envelop hooks (parse, validate, context) through
 *   `yoga.getEnveloped` with the message's payload as `params`: the record the
 *   WebSocket observer made for that payload is filled in the same way, and
 *   ended by graphql-ws's own hooks (websocket-observer.ts).
 */
import { isAsyncIterable } from '@envelop/core';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { correlationIdOf } from '../graphql/correlation-plugin.js';
import type { CommandContext } from '../app/command-context.js';
import { OperationRecord, type OperationObserver } from './operations.js';

export interface ObservedOperations {
  /** The record of a graphql-ws operation, by the payload of its `subscribe` message. */
  readonly byPayload: WeakMap<object, OperationRecord>;
  plugin: Plugin;
}

interface ObservableContext {
  request?: Request;
  params?: { operationName?: string | null };
  command?: CommandContext;
}

export function useOperationObserver(
  observer: OperationObserver,
  /** Who sent a request refused before its context was built (a parse or validation error). */
  actorOf: (authorization: string | null | undefined) => string,
): ObservedOperations {
  const byRequest = new WeakMap<Request, OperationRecord>();
  const byPayload = new WeakMap<object, OperationRecord>();
  const recordOf = (context: ObservableContext | undefined) => {
    if (!context) return undefined;
    if (context.request) return byRequest.get(context.request);
    return context.params ? byPayload.get(context.params) : undefined;
  };

  const finishHttp = (request: Request, record: OperationRecord) => {
    record.correlationId ??= correlationIdOf(request);
    record.actor ??= actorOf(request.headers.get('authorization'));
    observer.finish(record);
  };

  const plugin: Plugin = {
    onRequest({ request }) {
      byRequest.set(request, new OperationRecord('http'));
    },
    onParams({ params, request }) {
      const record = byRequest.get(request);
      if (record && typeof params.operationName === 'string') record.name = params.operationName;
    },
    onParse() {
      return ({ result, context }) => {
        const record = recordOf(context);
        if (record && !(result instanceof Error) && result) {
          record.noteDocument(result as DocumentNode, (context as ObservableContext).params?.operationName);
        }
      };
    },
    onValidate({ context }) {
      return ({ valid }) => {
        const record = recordOf(context);
        if (record) record.validated = valid;
      };
    },
    onContextBuilding() {
      return ({ context }) => {
        const record = recordOf(context);
        const command = (context as ObservableContext).command;
        if (record && command) {
          record.actor = command.actor;
          record.correlationId = command.correlationId;
        }
      };
    },
    onSubscribe({ args }) {
      const request = (args.contextValue as ObservableContext).request;
      const record = request && byRequest.get(request);
      if (!record) return; // graphql-ws: its own hooks follow the stream
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          record.transport = 'sse';
          observer.streaming(record);
          // An error thrown by the stream (a subscriber fallen too far behind, a server shutting down) ends it with that code.
          setResult(notingErrors(result, (error) => record.noteError(error)));
          return {
            onNext: ({ result: next }) => record.noteErrors((next as ExecutionResult).errors),
            onEnd: () => finishHttp(request, record),
          };
        },
      };
    },
    onResultProcess({ request, result }) {
      const record = byRequest.get(request);
      if (!record || isAsyncIterable(result)) return;
      for (const one of Array.isArray(result) ? result : [result]) record.noteErrors((one as ExecutionResult).errors);
      finishHttp(request, record);
    },
  };
  return { byPayload, plugin };
}

/**
 * The stream as it is, with an error it throws noted on its way to the client. (envelop's
 * errorAsyncIterator ends the stream quietly instead, and the client must get that error: it says
 * where to resume.)
 */
function notingErrors<T>(source: AsyncIterable<T>, note: (error: unknown) => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      iterator.next().catch((error: unknown) => {
        note(error);
        throw error;
      }),
    return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (error?: unknown) =>
      iterator.throw?.(error) ?? Promise.reject(error instanceof Error ? error : new Error(String(error))),
  };
}
