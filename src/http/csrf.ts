/**
 * Cross-site request forgery: what a page on another origin can make a
 * browser send without asking first (no CORS preflight) is refused.
 *
 * Those are a form post (urlencoded, multipart or text/plain body) and a
 * plain GET (an image or script source, a link). yoga's CSRF-prevention
 * plugin refuses any request with one of those bodies, or with no body type
 * at all (a GET), unless it carries a header a page cannot set without a
 * preflight. Our clients send JSON, which needs a preflight, so they pass; a
 * GET passes with `Authorization` (which no page can add unasked either) or
 * `x-graphql-yoga-csrf: 1`. yoga never runs a mutation over GET anyway, and
 * its multipart parser (file uploads, which Trialog has none of) is off.
 *
 * The plugin's refusal is an HTTP 403 with no contract code: it goes out as
 * FORBIDDEN, with a message that says what to send instead.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Any of these headers shows the request was not a simple cross-site one. */
const CSRF_PROOF_HEADERS = ['x-graphql-yoga-csrf', 'authorization'];

export function useCrossSiteRequestRefusal(): Plugin {
  const plugin = useCSRFPrevention({ requestHeaders: CSRF_PROOF_HEADERS }) as Plugin & {
    onRequestParse: NonNullable<Plugin['onRequestParse']>;
  };
  return {
    onRequestParse(payload) {
      try {
        return plugin.onRequestParse(payload);
      } catch {
        throw createGraphQLError(
          'refused: a request a web page could send cross-site (a form, text/plain or a bare GET). ' +
            'Send JSON (Content-Type: application/json), or on a GET the header x-graphql-yoga-csrf: 1',
          { extensions: { code: 'FORBIDDEN', http: { status: 403 } } },
        );
      }
    },
  };
}
