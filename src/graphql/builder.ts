/**
 * The one Pothos builder. Each file in `types/` adds its GraphQL types and
 * their query, mutation and subscription fields; `schema.ts` imports them all.
 */
import SchemaBuilder from '@pothos/core';
import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';
import type { GraphQLContext } from './context.js';

type JsonObject = Record<string, unknown>;

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    JSONObject: { Input: JsonObject; Output: JsonObject };
  };
}>({ defaultFieldNullability: false });

/** JSON deeper than this is refused before anything recurses into it. */
export const MAX_JSON_DEPTH = 64;

function depthOf(value: unknown): number {
  // Iterative: a hostile value must not be able to exhaust the stack here either.
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** graphql-scalars' JSON scalars, refusing values nested deeper than MAX_JSON_DEPTH. */
function boundedJsonScalar(scalar: GraphQLScalarType): GraphQLScalarType {
  const config = scalar.toConfig();
  const check = <T>(value: T): T => {
    if (depthOf(value) > MAX_JSON_DEPTH) throw new TypeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return value;
  };
  return new GraphQLScalarType({
    ...config,
    parseValue: (value) => config.parseValue(check(value)),
    parseLiteral: (ast, variables) => check(config.parseLiteral(ast, variables)),
  });
}

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', boundedJsonScalar(JSONResolver));
builder.addScalarType('JSONObject', boundedJsonScalar(JSONObjectResolver));

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
