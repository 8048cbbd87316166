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

/** The path of the first string (or object key) in `value` that is not well-formed Unicode, or undefined. */
export function findMalformedString(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (!isWellFormed.call(item)) return path || '(value)';
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) stack.push([item[i], `${path}[${i}]`]);
    } else if (item !== null && typeof item === 'object') {
      for (const key of Object.keys(item)) {
        if (!isWellFormed.call(key)) return `${path}: an object key`;
        stack.push([(item as Record<string, unknown>)[key], path ? `${path}.${key}` : key]);
      }
    }
  }
  return undefined;
}

function refusal(path: string): GraphQLError {
  return new GraphQLError(
    `variable ${path} holds a string that is not well-formed Unicode (a lone surrogate); send UTF-16 surrogates only in pairs`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );
}

/** Refuses an operation (HTTP, SSE or WebSocket) whose variables hold a lone surrogate anywhere. */
export function useWellFormedStrings(): Plugin {
  const check = (variables: unknown, stop: (result: { errors: GraphQLError[] }) => void) => {
    if (variables === undefined || variables === null) return;
    const path = findMalformedString(variables);
    if (path !== undefined) stop({ errors: [refusal(path.startsWith('[') ? path : `$${path}`)] });
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
