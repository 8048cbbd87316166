/**
 * Access control for every operation, over HTTP, SSE and WebSocket alike:
 * before anything runs, an unauthenticated caller gets UNAUTHENTICATED and a
 * caller whose role does not allow one of the operation's root fields gets
 * FORBIDDEN. Nothing executes, so a refused call writes no event.
 */
import { GraphQLError, Kind, getOperationAST, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DomainError } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';
import { mayCall } from './role-fields.js';

function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): string[] {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) names.push(...rootFields(document, selection.selectionSet, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) names.push(...rootFields(document, fragment.selectionSet, seen));
    }
  }
  return names;
}

/**
 * Why the caller may not run this operation, or undefined when it may. Over
 * HTTP an UNAUTHENTICATED answer is 401 (GraphQL over HTTP allows it).
 */
export function refusalOf(args: {
  document: DocumentNode;
  operationName?: string | null;
  contextValue?: unknown;
}): GraphQLError | undefined {
  const { principal } = args.contextValue as GraphQLContext;
  if (principal instanceof DomainError) {
    const http =
      principal.code === 'UNAUTHENTICATED' ? { http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } } : {};
    return new GraphQLError(principal.message, { extensions: { code: principal.code, ...http } });
  }
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return undefined; // graphql-js reports the missing operation itself
  for (const field of rootFields(args.document, operation.selectionSet)) {
    if (!mayCall(principal.role, operation.operation, field)) {
      return new GraphQLError(`the ${principal.role} role may not call ${field}`, {
        extensions: { code: 'FORBIDDEN' },
      });
    }
  }
  return undefined;
}

function check(args: { document: DocumentNode; operationName?: string | null; contextValue: unknown }): void {
  const refusal = refusalOf(args);
  if (refusal) throw refusal;
}

export function useAccessControl(): Plugin {
  return {
    onExecute({ args }) {
      check(args);
    },
    onSubscribe({ args }) {
      check(args);
    },
  };
}
