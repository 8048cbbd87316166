/**
 * Over graphql-ws, a refused operation (a parse error, FORBIDDEN, a
 * subscription cap) must answer that operation only: an `error` message with
 * its code. Thrown instead, graphql-ws's server lets it escape the message
 * handler, and the whole socket closes with 4500, ending every other
 * subscription on it.
 */
import { GraphQLError, OperationTypeNode, getOperationAST, type ExecutionArgs } from 'graphql';

/** Wraps graphql-ws's `onSubscribe` so that a GraphQLError it throws becomes that operation's `error` message. */
export function answeringRefusals<A extends unknown[], R>(
  onSubscribe: (...args: A) => Promise<R>,
): (...args: A) => Promise<R | readonly GraphQLError[]> {
  return async (...args) => {
    try {
      return await onSubscribe(...args);
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
  };
}

export function isSubscription(args: ExecutionArgs): boolean {
  return getOperationAST(args.document, args.operationName)?.operation === OperationTypeNode.SUBSCRIPTION;
}
