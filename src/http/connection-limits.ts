/**
 * Connections are a resource a stranger can take without sending a key: they
 * are capped in total and per client address, and a client slow to send its
 * headers or its request is cut off.
 *
 * - Past a cap, a new connection is answered 503 and closed at once; every
 *   TCP connection counts, WebSocket ones included, until it closes. Many
 *   connections from one address therefore cannot shut out another.
 * - `headersTimeoutMs` bounds how long the headers may take, `requestTimeoutMs`
 *   the whole request with its body (Node's own timers, checked often enough
 *   to act within a fraction of the shorter one). Both end once the request is
 *   in: a long SSE response or WebSocket is not cut off by them.
 */
import type { Server, ServerOptions } from 'node:http';
import { errorBody } from './error-response.js';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Options for `http.createServer`: the timeouts (Node requires headers ≤ request). */
export function httpServerOptions(limits: ConnectionLimits): ServerOptions {
  const requestTimeout = limits.requestTimeoutMs;
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
  };
}

const BUSY = 'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: application/json\r\n';

function refuse(socket: Socket, why: string): void {
  const body = errorBody(why, 'TOO_LARGE');
  // Destroyed, not ended: the HTTP server's own listener runs after this one and must find
  // nothing to read. A short write goes to the kernel at once, so the client still sees the 503.
  socket.write(`${BUSY}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.destroy();
}

/** Caps the server's open connections, in total and per remote address. */
export function capConnections(server: Server, limits: ConnectionLimits): void {
  const byAddress = new Map<string, number>();
  let total = 0;
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = byAddress.get(address) ?? 0;
    if (total >= limits.maxConnections) return refuse(socket, `at most ${limits.maxConnections} connections`);
    if (mine >= limits.maxConnectionsPerAddress) {
      return refuse(socket, `at most ${limits.maxConnectionsPerAddress} connections from one address`);
    }
    total++;
    byAddress.set(address, mine + 1);
    socket.once('close', () => {
      total--;
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left > 0) byAddress.set(address, left);
      else byAddress.delete(address);
    });
  });
}
