/**
 * Relay-style forward pagination shared by every connection: `first` is
 * bounded, `after` is the cursor of the last edge seen.
 */
import { badInput } from '../domain/errors.js';
import type { EventStore } from '../store/port.js';
import type { Limits } from '../limits.js';
import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfoShape;
}

export const PageInfo = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/** A connection's `first`, or `fallback` when not given; BAD_USER_INPUT past `limits.pageSize`. */
export function pageSize(limits: Pick<Limits, 'pageSize'>, first: number | null | undefined, fallback: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > limits.pageSize) {
    throw badInput(`first must be between 0 and ${limits.pageSize}`);
  }
  return size;
}

/** A cursor that is a position of the store (jobs, experiments, mappings): checked, in canonical form. */
export function positionCursor(
  store: Pick<EventStore, 'normalizePosition'>,
  after: string | null | undefined,
): string | undefined {
  if (after === null || after === undefined) return undefined;
  try {
    return store.normalizePosition(after);
  } catch {
    throw badInput('after is not a cursor of this connection');
  }
}

export function toConnection<T>(
  items: { cursor: string; node: T }[],
  hasNextPage: boolean,
  after: string | null | undefined,
): ConnectionShape<T> {
  return {
    edges: items,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after !== null && after !== undefined,
      startCursor: items[0]?.cursor ?? null,
      endCursor: items[items.length - 1]?.cursor ?? null,
    },
  };
}

/** Defines `${name}Edge` and `${name}Connection` for a node type. */
export function connectionTypes<T, Extra extends object = object>(name: string, node: ObjectRef<Types, T>) {
  const Edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // `as never`: TypeScript cannot resolve Pothos's result type for a generic node shape.
      node: t.field({ type: node, resolve: (edge) => edge.node as never }),
    }),
  });
  const Connection = builder.objectRef<ConnectionShape<T> & Extra>(`${name}Connection`);
  Connection.implement({
    fields: (t) => ({
      edges: t.field({ type: [Edge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
    }),
  });
  return Connection;
}
