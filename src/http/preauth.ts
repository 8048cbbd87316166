/**
 * When keys are required, a request with no valid key is refused from its
 * headers, before a byte of its body is read or parsed: 401 with a
 * GraphQL-over-HTTP JSON body (code UNAUTHENTICATED). A stranger's body then
 * costs the server nothing but discarding it.
 *
 * Let through without a key: CORS preflights (browsers send them without
 * credentials, and they carry no operation), and GraphiQL's page (a GET that
 * asks for HTML and carries no operation). Everything else needs a key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../app/access.js';
import { refuseRequest } from './error-response.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function isGraphiQLPage(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
  const url = new URL(req.url ?? '/', 'http://localhost');
  return !url.searchParams.has('query') && !url.searchParams.has('extensions');
}

export function refuseUnauthenticated(access: Pick<AccessControl, 'isOpen' | 'authenticate'>, next: Handler): Handler {
  return (req, res) => {
    if (access.isOpen || req.method === 'OPTIONS' || isGraphiQLPage(req)) return next(req, res);
    const principal = access.authenticate(req.headers.authorization);
    if (!(principal instanceof Error)) return next(req, res);
    refuseRequest(res, 401, 'UNAUTHENTICATED', principal.message, {
      'content-type': 'application/json; charset=utf-8',
      'www-authenticate': 'Bearer',
    });
  };
}
