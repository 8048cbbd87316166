/**
 * Which Host and Origin headers the server answers to: pure functions, no I/O.
 *
 * Trialog authenticates with bearer keys, never cookies, so a web page the
 * user happens to visit holds no key. What a page can still reach is a server
 * running open (no keys, every caller is admin) on the user's own machine:
 *
 * - directly, from another origin: the browser sends an Origin header, which
 *   must be this server's own or one the operator allow-listed
 *   (TRIALOG_CORS_ORIGINS);
 * - by DNS rebinding: the page's own name is made to resolve to 127.0.0.1, so
 *   the browser thinks it is same-origin. It still sends its own name in the
 *   Host header, which must name this server (its bound address, or a name in
 *   TRIALOG_ALLOWED_HOSTS).
 */
import { CORRELATION_HEADER } from '../graphql/correlation-plugin.js';

/** A page's origin as the allow-list holds it: scheme, host and port, as `URL.origin` writes it. */
export function parseOriginList(text: string | undefined): string[] {
  return listOf(text).map((entry) => {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry) {
      throw new Error(
        `${JSON.stringify(entry)} is not an origin like https://dash.example.com or http://localhost:5173 (scheme, host and port only, no path or trailing slash)`,
      );
    }
    return entry;
  });
}

const HOST_ENTRY = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/;

/** Host names (optionally with a port) the server also answers to, e.g. behind a proxy. */
export function parseHostList(text: string | undefined): string[] {
  return listOf(text).map((entry) => {
    const host = entry.toLowerCase();
    if (!HOST_ENTRY.test(host)) {
      throw new Error(
        `${JSON.stringify(entry)} is not a host name like trialog.example.com or 10.0.0.5:4000 (no scheme, path or wildcard)`,
      );
    }
    return host;
  });
}

function listOf(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Bound to every interface: reachable under any name. */
function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

export interface HostPolicy {
  /** The address the server listens on (HOST), as configured. */
  boundHost: string;
  port: number;
  /** TRIALOG_ALLOWED_HOSTS, lower case. */
  allowedHosts: readonly string[];
  /** Whether the server runs open right now (no key configured or created). */
  isOpen(): boolean;
}

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** The names a browser may use for this server without the operator saying so. */
function ownNames(policy: HostPolicy): string[] {
  const names = [bracketed(policy.boundHost.toLowerCase())];
  if (isLoopbackAddress(policy.boundHost) || isWildcardAddress(policy.boundHost))
    names.push('localhost', '127.0.0.1', '[::1]');
  return names;
}

/** `name:port` → [name, port]; a Host without a port means port 80 (Trialog serves plain HTTP). */
function splitHost(host: string): [string, string | undefined] {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  return match ? [match[1]!, match[2]] : [host, undefined];
}

/**
 * Whether a request's Host header names this server.
 *
 * - Any name in TRIALOG_ALLOWED_HOSTS (one without a port matches any port): a proxy in front
 *   forwards the public name.
 * - The bound address with the server's port, and when bound to loopback also localhost,
 *   127.0.0.1 and [::1] with the port.
 * - Bound to every interface (0.0.0.0 or ::) with no allow-list, any name: the server is then
 *   reached under names we cannot know, and it never runs open there (main.ts makes an admin key
 *   instead), so a rebound page gets nothing without a key, which no page holds (keys are bearer
 *   headers, never cookies). Rebinding matters only while the server is open, so if it ever is
 *   open on every interface (a test, or a library caller), only the loopback names pass.
 */
export function isAllowedHost(hostHeader: string | undefined, policy: HostPolicy): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  const host = hostHeader.toLowerCase();
  const [name, port] = splitHost(host);
  for (const entry of policy.allowedHosts) {
    const [entryName, entryPort] = splitHost(entry);
    if (entryName === name && (entryPort === undefined || entryPort === (port ?? '80'))) return true;
  }
  if (isWildcardAddress(policy.boundHost) && policy.allowedHosts.length === 0 && !policy.isOpen()) return true;
  return (port ?? '80') === String(policy.port) && ownNames(policy).includes(name);
}

export type OriginVerdict = 'absent' | 'same-origin' | 'allow-listed' | 'foreign';

/**
 * Where a request comes from, by its Origin header. Browsers send one on every cross-origin
 * request (and on same-origin POSTs and WebSocket upgrades); other clients usually send none.
 * Same-origin compares the Origin's host and port with the Host header, not the scheme, so that
 * a proxy ending TLS in front (https outside, http here) still counts as the same origin. A
 * sandboxed or opaque page sends `null`, which is never same-origin nor allow-listed.
 */
export function judgeOrigin(
  origin: string | undefined,
  hostHeader: string | undefined,
  corsOrigins: readonly string[],
): OriginVerdict {
  if (origin === undefined) return 'absent';
  if (corsOrigins.includes(origin)) return 'allow-listed';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'foreign';
  }
  if (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    hostHeader !== undefined &&
    url.host === withoutDefaultPort(hostHeader.toLowerCase(), url.protocol)
  ) {
    return 'same-origin';
  }
  return 'foreign';
}

/** `URL.host` leaves out the scheme's default port; a Host header may carry it. */
function withoutDefaultPort(host: string, protocol: string): string {
  const [name, port] = splitHost(host);
  return port === (protocol === 'https:' ? '443' : '80') ? name : host;
}

/** Why a request is refused before it reaches GraphQL, or undefined when it may go on. */
export function perimeterRefusal(
  request: { host: string | undefined; origin: string | undefined },
  policy: HostPolicy & { corsOrigins: readonly string[] },
): string | undefined {
  if (!isAllowedHost(request.host, policy)) {
    return `this server does not answer to the host ${quoted(request.host ?? '')}: set TRIALOG_ALLOWED_HOSTS to serve it under that name`;
  }
  if (judgeOrigin(request.origin, request.host, policy.corsOrigins) === 'foreign') {
    return `requests from the web page at ${quoted(request.origin ?? '')} are refused: add its origin to TRIALOG_CORS_ORIGINS to allow it`;
  }
  return undefined;
}

/** A header echoed in a refusal: quoted, and cut short (it is the sender's text). */
const quoted = (value: string) => JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);

/** Headers a browser may send cross-origin once the preflight allows them. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', CORRELATION_HEADER, 'x-graphql-yoga-csrf'];

/**
 * yoga's CORS options for one request: headers only for an allow-listed origin, and never
 * `Access-Control-Allow-Credentials` (keys travel in the Authorization header, which a page
 * must set itself; no cookie is ever needed). `false` sends no CORS headers at all, so a
 * browser keeps the response from any other page.
 */
export function corsOptionsFor(origin: string | null, corsOrigins: readonly string[]) {
  if (origin === null || !corsOrigins.includes(origin)) return false as const;
  return {
    origin: [origin],
    credentials: false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: CORS_REQUEST_HEADERS,
    exposedHeaders: [CORRELATION_HEADER],
    maxAge: 600,
  };
}
