/**
 * The dashboard: the static bundle `npm run build:dashboard` writes (dashboard/dist, or
 * TRIALOG_DASHBOARD_DIR), served at / on the same origin as /graphql, so the page calls the
 * API with no CORS at all and the perimeter's Host and Origin rules apply to it unchanged.
 *
 * - The dashboard's own paths (dashboard/src/routes.ts, the same list its router reads) answer
 *   index.html, so a copied link opens the same view; any other path goes on to the GraphQL
 *   handler exactly as before (its 404, or 401 without a key).
 * - Files are sent by sirv: the .br or .gz the build wrote beside each file when the client
 *   accepts it (nothing is compressed per request), a weak ETag answered with 304, and only
 *   files it listed at start (no path walks out of the directory, no dotfiles).
 * - Caching: index.html is revalidated on every load (`no-cache`, its ETag makes that a 304);
 *   files under /assets/ carry a content hash in their name, so they are immutable for a year.
 * - Every answer here carries a strict Content-Security-Policy (below), nosniff and
 *   no-referrer. Only GET and HEAD (405 otherwise); no request body is ever read.
 * - Not built (no index.html): the dashboard's paths answer 503 saying how to build it. A
 *   build made while the server runs is picked up on the next request (the directories'
 *   modification times are checked, three stat calls per request for a dashboard path).
 *
 * These requests need no key: they are the same public files for everyone, and the page asks
 * for a key itself. Every GraphQL request it then makes needs one as usual.
 */
import { statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import sirv, { type RequestHandler } from 'sirv';
import { matchRoute } from '../../dashboard/src/routes.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Nothing but the bundle's own files may load or run: no inline script or style, no eval, no
 * other host. uPlot and the views set `element.style` from script, which CSP allows (only
 * `style="..."` in markup and <style> elements are inline styles). `img-src data:` is for the
 * empty `data:,` favicon index.html names (so the browser does not ask for /favicon.ico).
 * `connect-src 'self'` covers the WebSocket to /graphql too (ws: on the page's own host and port).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Hashed names (Vite's `assets/name-HASH.ext`): the name changes whenever the content does. */
const ASSETS_PREFIX = '/assets/';
export const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const NOT_BUILT = 'The dashboard is not built: run `npm run build:dashboard`, then reload this page.\n';

/** The path of a request in origin form (`/path?query`); undefined for anything else (`*`, absolute form). */
function pathOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('/')) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function answerText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  // The connection closes: a body the client sent with it is never read.
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'close',
    ...headers,
  });
  res.end(text);
}

/**
 * The built bundle as it is on disk now, with a sirv handler listing its files; rebuilt
 * when the directory or its assets/ directory changes (a rebuild empties and refills both).
 */
function bundleOn(dir: string): () => RequestHandler | undefined {
  let seen: { version: string; send: RequestHandler | undefined } | undefined;
  const mtimeOf = (path: string): number | undefined => {
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
    } catch {
      stats = undefined;
    }
    return stats?.mtimeMs;
  };
  return () => {
    const index = mtimeOf(join(dir, 'index.html'));
    const version = `${mtimeOf(dir)}:${mtimeOf(join(dir, 'assets'))}:${index}`;
    if (seen?.version === version) return seen.send;
    let send: RequestHandler | undefined;
    if (index !== undefined) {
      try {
        send = sirv(dir, {
          etag: true,
          brotli: true,
          gzip: true,
          extensions: [],
          dotfiles: false,
          setHeaders: keepVaryOrigin,
        });
      } catch {
        send = undefined; // changing under our feet (a build in progress): looked at again next request
      }
    }
    // Remembered only when complete: a half-written build is looked at again on the next request.
    if (send) seen = { version, send };
    return send;
  };
}

/** sirv sets `Vary: Accept-Encoding`, replacing the perimeter's `Vary: Origin`: keep both. */
function keepVaryOrigin(res: ServerResponse): void {
  res.setHeader('vary', 'Origin, Accept-Encoding');
}

/** The paths answered here: the dashboard's files (its hashed assets and index.html itself). */
function isDashboardFile(path: string): boolean {
  return path.startsWith(ASSETS_PREFIX) || path === '/index.html';
}

/** Wraps the API's handler: the dashboard's paths are answered here, every other path goes on to `next` untouched. */
export function serveDashboard(dir: string, next: Handler): Handler {
  const bundle = bundleOn(dir);
  return (req, res) => {
    const path = pathOf(req.url);
    const page = path === undefined ? null : matchRoute(path);
    if (path === undefined || (page === null && !isDashboardFile(path))) return next(req, res);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return answerText(res, 405, `${req.method} is not served here: the dashboard answers GET and HEAD only\n`, {
        allow: 'GET, HEAD',
      });
    }
    const send = bundle();
    if (!send) return answerText(res, 503, NOT_BUILT);

    // Set before sirv answers, so that a 304 carries them too.
    res.setHeader('cache-control', path.startsWith(ASSETS_PREFIX) ? IMMUTABLE : REVALIDATE);
    res.setHeader('vary', 'Origin, Accept-Encoding');
    // A file removed between the listing and this request (a rebuild) ends this response, not the process.
    const endOnReadError = (source: Readable) => source.once('error', () => res.destroy());
    res.once('pipe', endOnReadError);
    if (page !== null) req.url = '/index.html';
    send(req, res, () => {
      // No such file (an old asset name): what the API answers any unknown path, with its own headers.
      res.off('pipe', endOnReadError);
      for (const name of [...Object.keys(SECURITY_HEADERS), 'cache-control']) res.removeHeader(name);
      res.setHeader('vary', 'Origin');
      next(req, res);
    });
  };
}
