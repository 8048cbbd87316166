/**
 * Bounds on a document checked before graphql-js sees it, so that no work in
 * proportion to a hostile document is done: its size in bytes (a 19 MiB string
 * literal held the lexer for seconds) and how deep its braces, brackets and
 * parentheses nest (graphql-js's parser recurses, and 3,000 levels overflowed
 * the stack). graphql-armor's depth and token limits run too, but its depth
 * limit runs after parsing, and its token limit still lexes one huge token.
 */
import { GraphQLError, type Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Deepest a document's brackets may nest: room for a 64-deep JSON literal inside a selection 12 deep. */
const MAX_DOCUMENT_NESTING = 128;

const tooLarge = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'TOO_LARGE', http: { status: 400 } } });

/** The deepest bracket nesting outside strings and comments; stops counting past `limit`. */
function documentNesting(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (c === '"') {
      if (text.startsWith('"""', i)) {
        const end = text.indexOf('"""', i + 3);
        // A block string's only escape is \""" : skip past each one.
        let close = end;
        while (close > 0 && text[close - 1] === '\\') close = text.indexOf('"""', close + 3);
        if (close < 0) return deepest; // unterminated: the parser says so
        i = close + 2;
      } else {
        for (i++; i < text.length && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === '}' || c === ']' || c === ')') depth--;
  }
  return deepest;
}

/** Refuses a document over `maxBytes` (UTF-8) or nested deeper than MAX_DOCUMENT_NESTING, before it is parsed. */
function checkDocument(source: string, maxBytes: number): void {
  // UTF-8 takes at least a byte per UTF-16 unit: a string this long is over at once, unmeasured.
  if (source.length > maxBytes || Buffer.byteLength(source, 'utf8') > maxBytes) {
    throw tooLarge(`document over ${maxBytes} bytes`);
  }
  if (documentNesting(source, MAX_DOCUMENT_NESTING) > MAX_DOCUMENT_NESTING) {
    throw tooLarge(`document nested deeper than ${MAX_DOCUMENT_NESTING} levels`);
  }
}

export function useDocumentBounds(maxBytes: number): Plugin {
  return {
    onParse({ params }) {
      const source = params.source as string | Source;
      checkDocument(typeof source === 'string' ? source : source.body, maxBytes);
    },
  };
}
