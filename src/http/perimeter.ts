/**
 * The server's edge toward browsers: a request (or WebSocket upgrade) whose
 * Host does not name this server, or whose Origin is another web page's, is
 * answered 403 with FORBIDDEN before anything reads its body or GraphQL sees
 * it. The rules are in origin-policy.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, refuseRequest } from './error-response.js';
import { perimeterRefusal, type HostPolicy } from './origin-policy.js';

export type PerimeterPolicy = HostPolicy & { corsOrigins: readonly string[] };

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function refusalOf(req: IncomingMessage, policy: PerimeterPolicy): string | undefined {
  return perimeterRefusal({ host: single(req.headers.host), origin: single(req.headers.origin) }, policy);
}

/** Wraps the HTTP handler: refused requests get 403 and no CORS headers, so no page reads even that. */
export function guardPerimeter(policy: PerimeterPolicy, next: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    // What yoga answers depends on the Origin (CORS headers for an allow-listed one): caches must know.
    res.setHeader('vary', 'Origin');
    const refusal = refusalOf(req, policy);
    if (refusal === undefined) return next(req, res);
    req.resume(); // the body is not read, only drained
    refuseRequest(res, 403, 'FORBIDDEN', refusal);
  };
}

/**
 * ws's `verifyClient`: the same rules for a WebSocket upgrade, checked before the handshake
 * completes, so a refused page never reaches graphql-ws. (Browsers always send Origin on an
 * upgrade and no CORS applies to WebSockets: this check is the only thing that stops a page.)
 */
export function verifyUpgrade(policy: PerimeterPolicy) {
  return (
    info: { req: IncomingMessage },
    done: (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
  ) => {
    const refusal = refusalOf(info.req, policy);
    if (refusal === undefined) return done(true);
    done(false, 403, errorBody(refusal, 'FORBIDDEN'), { 'Content-Type': 'application/json' });
  };
}
