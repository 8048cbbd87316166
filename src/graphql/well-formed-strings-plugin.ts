/**
 * Every string that enters through GraphQL is well-formed Unicode, or the
 * request is refused with BAD_USER_INPUT before anything runs.
 *
 * A lone surrogate ("\ud800") is legal in a JavaScript string and in JSON
 * text, but not in UTF-8: SQLite, EventStoreDB and every JSON encoder on the
 * way replace it with U+FFFD. Kept, it would be changed on the way out (a log
 * line read back as "a\ufffd\ufffd\ufffdb"), and keys that differ only in
 * lone surrogates would collide once hashed or stored (three idempotency keys
 * mapping to one job). So it is refused at the one door every value comes
 * through: the operation's variables, walked once without recursion (the
 * cost is linear in the request's size, and nesting cannot overflow the
 * stack). String literals in the document need no check here: graphql-js's
 * lexer already refuses lone surrogates, raw or escaped, as a syntax error.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type WellFormed = (this: string) => boolean;
const isWellFormed = (String.prototype as unknown as { isWellFormed: WellFormed }).isWellFormed;

/**
 * The first variable holding a string (or an object key) that is not
 * well-formed Unicode, or undefined. It names the variable, not the place
 * inside it: a path per value would cost far more than the check (20 MiB of
 * variables holds millions of values, and a path string for each took
 * seconds and hundreds of MiB).
 */
function findMalformedVariable(variables: Readonly<Record<string, unknown>>): string | undefined {
  for (const [name, value] of Object.entries(variables)) {
    if (!isWellFormed.call(name) || holdsMalformedString(value)) return name;
  }
  return undefined;
}

/** Walks containers only (each primitive is checked where it is found), without recursion. */
function holdsMalformedString(value: unknown): boolean {
  if (typeof value === 'string') return !isWellFormed.call(value);
  const containers: object[] = value !== null && typeof value === 'object' ? [value] : [];
  while (containers.length > 0) {
    const container = containers.pop()!;
    if (!Array.isArray(container) && Object.keys(container).some((key) => !isWellFormed.call(key))) return true;
    for (const item of Array.isArray(container) ? container : Object.values(container)) {
      if (typeof item === 'string') {
        if (!isWellFormed.call(item)) return true;
      } else if (item !== null && typeof item === 'object') containers.push(item as object);
    }
  }
  return false;
}

function refusal(variable: string): GraphQLError {
  return new GraphQLError(
    `variable ${variable} holds a string that is not well-formed Unicode (a lone surrogate); send UTF-16 surrogates only in pairs`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );
}

/** Refuses an operation (HTTP, SSE or WebSocket) whose variables hold a lone surrogate anywhere. */
export function useWellFormedStrings(): Plugin {
  const check = (variables: unknown, stop: (result: { errors: GraphQLError[] }) => void) => {
    if (variables === undefined || variables === null) return;
    const variable = findMalformedVariable(variables as Readonly<Record<string, unknown>>);
    if (variable !== undefined) stop({ errors: [refusal(variable)] });
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      check(args.variableValues, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      check(args.variableValues, setResultAndStopExecution);
    },
  };
}
