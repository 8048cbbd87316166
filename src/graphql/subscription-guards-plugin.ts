/**
 * Subscriptions per key, over every transport (graphql-ws and SSE alike): at
 * most N open at once for one key (TOO_LARGE past it), and all of a key's are
 * ended when the key is revoked.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DomainError } from '../domain/errors.js';
import type { Trialog } from '../trialog.js';
import type { GraphQLContext } from './context.js';

interface OpenSubscription {
  stop(): void;
}

export function useSubscriptionGuards(trialog: Trialog, maxPerKey: number): { plugin: Plugin; dispose(): void } {
  const open = new Map<string, Set<OpenSubscription>>();
  const revocations = trialog.feed.subscribe((event) => event.type === 'ApiKeyRevoked');
  void (async () => {
    for await (const event of revocations) {
      const keyId = (event.data as { keyId: string }).keyId;
      for (const subscription of open.get(keyId) ?? []) subscription.stop();
      open.delete(keyId);
    }
  })();

  const plugin: Plugin = {
    onSubscribe({ args }) {
      const { principal } = args.contextValue as unknown as GraphQLContext;
      if (principal instanceof DomainError || !principal.keyId) return;
      const keyId = principal.keyId;
      if ((open.get(keyId)?.size ?? 0) >= maxPerKey) {
        throw new GraphQLError(`at most ${maxPerKey} subscriptions per key`, { extensions: { code: 'TOO_LARGE' } });
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in Object(result))) return;
          const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]() as AsyncIterator<unknown>;
          const mine = open.get(keyId) ?? new Set<OpenSubscription>();
          open.set(keyId, mine);
          const entry: OpenSubscription = { stop: () => void iterator.return?.() };
          mine.add(entry);
          const forget = () => mine.delete(entry);
          // A plain iterator, not a generator: its return() reaches the source at once (see closing-iterator.ts).
          const guarded: AsyncIterableIterator<unknown> = {
            next: () => iterator.next().then((step) => (step.done && forget(), step)),
            return: async (value?: unknown) => {
              forget();
              return iterator.return ? iterator.return(value) : { done: true, value };
            },
            throw: async (error?: unknown) => {
              forget();
              if (iterator.throw) return iterator.throw(error);
              throw error;
            },
            [Symbol.asyncIterator]: () => guarded,
          };
          setResult(guarded as never);
        },
      };
    },
  };
  return { plugin, dispose: () => revocations.close() };
}
