/**
 * Subscriptions per key, over every transport (graphql-ws and SSE alike): at
 * most N open at once for one key (TOO_LARGE past it), and all of a key's are
 * ended when the key is revoked.
 *
 * Callers without a stored key count too: the environment's admin key
 * (TRIALOG_ADMIN_KEY) has a bucket of its own, and in open mode every caller
 * shares one bucket (open mode serves loopback only, where one user is
 * expected: the cap bounds what that user's programs can hold open).
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../app/access.js';
import { SERVER_ACTORS } from '../domain/access/keys.js';
import { DomainError } from '../domain/errors.js';
import type { LiveEvents } from '../live/live-events.js';
import type { GraphQLContext } from './context.js';

interface OpenSubscription {
  stop(): void;
}

/** Whose count a subscription adds to: its key, the environment's admin key, or open mode's shared bucket. */
function bucketOf(principal: Principal): string {
  if (principal.keyId) return principal.keyId;
  return principal.name === SERVER_ACTORS.open ? 'open-mode' : 'environment-admin-key';
}

export interface SubscriptionGuards {
  plugin: Plugin;
  /** Why this caller may not open one more subscription now (TOO_LARGE), or undefined. */
  refusal(principal: GraphQLContext['principal']): GraphQLError | undefined;
  dispose(): void;
}

export function useSubscriptionGuards(live: LiveEvents, maxPerKey: number): SubscriptionGuards {
  const open = new Map<string, Set<OpenSubscription>>();
  const revocations = live.keyRevocations();
  void (async () => {
    for await (const keyId of revocations) {
      for (const subscription of open.get(keyId) ?? []) subscription.stop();
      open.delete(keyId);
    }
  })();

  const refusal = (principal: GraphQLContext['principal']): GraphQLError | undefined => {
    if (principal instanceof DomainError) return undefined; // refused by access control
    if ((open.get(bucketOf(principal))?.size ?? 0) < maxPerKey) return undefined;
    return new GraphQLError(`at most ${maxPerKey} subscriptions per key`, { extensions: { code: 'TOO_LARGE' } });
  };

  const plugin: Plugin = {
    onSubscribe({ args }) {
      const { principal } = args.contextValue as unknown as GraphQLContext;
      if (principal instanceof DomainError) return;
      const tooMany = refusal(principal);
      if (tooMany) throw tooMany;
      const keyId = bucketOf(principal);
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in Object(result))) return;
          const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
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
  return { plugin, refusal, dispose: () => revocations.close() };
}
