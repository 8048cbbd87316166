/**
 * Every error carries a contract code. graphql-js and yoga label their own
 * errors (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, bad HTTP bodies)
 * with codes outside the contract; a request the server cannot run as sent is
 * bad input, so those become BAD_USER_INPUT; a document over one of
 * graphql-armor's limits is TOO_LARGE. Resolver errors are coded by
 * `maskError` already and pass through untouched.
 */
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ERROR_CODES } from '../domain/errors.js';

const CONTRACT_CODES = new Set<string>(ERROR_CODES);

/** graphql-armor's refusals: a document over a size limit (depth, aliases, cost, directives, tokens). */
const ARMOR_LIMIT = /limit of \d+ exceeded/;

function normalise(
  error: { message?: string; extensions?: Record<string, unknown> } | GraphQLError,
  fallback: string,
): void {
  const extensions = error.extensions;
  if (!extensions) return;
  if (error.message && ARMOR_LIMIT.test(error.message)) extensions.code = 'TOO_LARGE';
  else if (!CONTRACT_CODES.has(extensions.code as string)) extensions.code = fallback;
}

function statusOf(error: { extensions?: Record<string, unknown> }): number {
  const http = error.extensions?.http as { status?: number } | undefined;
  return http?.status ?? 400;
}

export function useContractErrorCodes(): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error && 'extensions' in result) normalise(result as GraphQLError, 'BAD_USER_INPUT');
      };
    },
    onValidate() {
      return ({ result }) => {
        for (const error of result as readonly GraphQLError[]) normalise(error, 'BAD_USER_INPUT');
      };
    },
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const one of results) {
        if (!one || typeof one !== 'object' || !('errors' in one) || !Array.isArray(one.errors)) continue;
        for (const error of one.errors as { extensions?: Record<string, unknown> }[]) {
          error.extensions ??= {};
          normalise(error, statusOf(error) >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT');
        }
      }
    },
  };
}
