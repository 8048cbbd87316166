/**
 * With introspection off, no error may suggest a name: graphql-js adds
 * "Did you mean ...?" to unknown fields, arguments, types, enum values and
 * input fields, in validation errors and in errors coercing variables, and
 * those suggestions would give the schema away piece by piece.
 * (graphql-armor's blockFieldSuggestion matches only some of the wordings.)
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** The error with any "Did you mean ...?" taken out of its message. */
export function withoutSuggestion<E>(error: E): E {
  if (error instanceof GraphQLError || error instanceof Error) {
    const message = error.message.replace(SUGGESTION, '');
    if (message !== error.message) error.message = message.trim();
  }
  return error;
}

/** Validation errors without suggestions (errors while executing go through `withoutSuggestion` in maskError). */
export function useNoSuggestions(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map(withoutSuggestion));
      };
    },
  };
}
