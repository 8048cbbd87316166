/**
 * An orderly shutdown, on SIGTERM or SIGINT (main.ts), in this order:
 *
 * 1. readiness turns false (`/ready` answers 503), so no orchestrator sends more;
 * 2. the listener closes: new connections are refused, and a request that
 *    still comes on an open connection gets 503 UNAVAILABLE (drain.ts);
 * 3. requests in flight (HTTP, and queries and mutations over WebSocket)
 *    finish, and kept-alive connections end, within the grace period; past
 *    it what is left is cut off, and said so;
 * 4. live subscriptions end saying where to resume: the live feed ends each
 *    with UNAVAILABLE and its resume position (the same path as a subscriber
 *    too far behind), so an SSE stream sends that and `complete`, and a
 *    graphql-ws subscription an `error`; then each WebSocket closes with 1001;
 * 5. the store closes (the caller, after this: `Trialog.close`).
 *
 * The projection runner keeps applying the log until step 5, so a mutation
 * in flight is answered after the read models include it, as always, and
 * subscribers see every event written before they are ended.
 */
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { WebSocket } from 'ws';
import type { HttpDrain } from './http/drain.js';
import { ServerShuttingDownError } from './live-feed.js';
import type { Trialog } from './trialog.js';

/** After step 3, how long subscriptions have to send their last message before their connections are cut. */
export const SUBSCRIPTION_END_MS = 2_000;

export const GOING_AWAY = 1001;

export interface ShutdownParts {
  trialog: Pick<Trialog, 'feed' | 'runner'>;
  drain: HttpDrain;
  httpServer: Server;
  stopReadiness(): void;
  /** The server's own subscriptions to the feed (key revocations): closed before the feed ends the rest. */
  stopWatchers(): void;
  webSockets(): { socket: WebSocket; openOperations(): number }[];
  /** Cuts whatever is still open. */
  closeAll(): Promise<void>;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A close reason fits in 123 bytes: the position is left out of one that would not. */
function goingAwayReason(position: string | undefined): string {
  const withPosition = `server shutting down at log position ${position}; each subscription's error says where to resume`;
  return position !== undefined && Buffer.byteLength(withPosition) <= 123
    ? withPosition
    : "server shutting down; each subscription's error says where to resume";
}

export async function shutDownInOrder(
  options: { graceMs: number; log: (line: string) => void },
  parts: ShutdownParts,
): Promise<void> {
  const { log, graceMs } = options;
  const { drain, httpServer } = parts;
  const deadline = Date.now() + graceMs;

  parts.stopReadiness();
  log('shutdown 1/5: /ready answers 503 from now on');

  drain.startDraining();
  // net's close, not http's: http's also cuts idle kept-alive connections at once, and a client
  // sending on one at that moment would see a reset (drain.ts lets them end by their keep-alive timeout).
  NetServer.prototype.close.call(httpServer);
  log('shutdown 2/5: listener closed: new connections are refused, requests on open ones answered 503 UNAVAILABLE');

  const before = drain.counts();
  log(
    `shutdown 3/5: waiting up to ${graceMs / 1000} s for ${plural(before.requests, 'request')} in flight and ${plural(before.idleConnections, 'kept-alive connection')}`,
  );
  const quiet = await drain.until((c) => c.requests === 0 && c.idleConnections === 0, deadline);
  const left = drain.counts();
  if (quiet) log('shutdown 3/5: every request in flight answered, every kept-alive connection closed');
  else {
    log(
      `shutdown 3/5: grace period over: cutting off ${plural(left.requests, 'request')} in flight and ${plural(left.idleConnections, 'idle connection')}`,
    );
  }

  parts.stopWatchers();
  const ended = parts.trialog.feed.endAll(new ServerShuttingDownError());
  const sockets = parts.webSockets();
  log(
    `shutdown 4/5: ending ${plural(ended, 'subscription')} (${plural(left.streams, 'SSE stream')}, ${plural(sockets.length, 'WebSocket')}) with where to resume`,
  );
  const endBy = Date.now() + SUBSCRIPTION_END_MS;
  const reason = goingAwayReason(parts.trialog.runner.position);
  await Promise.all(sockets.map(({ socket, openOperations }) => endWebSocket(socket, openOperations, endBy, reason)));
  const streamsDone = await drain.until((c) => c.streams === 0 && c.requests === 0, endBy);
  if (!streamsDone)
    log(`shutdown 4/5: cutting off ${plural(drain.counts().streams, 'SSE stream')} whose client did not read its end`);
  log('shutdown 4/5: subscriptions ended; WebSockets closed with 1001');
  drain.destroyAll();
  await parts.closeAll();
}

/**
 * Sends a WebSocket's subscriptions their ending, then closes it with 1001,
 * cutting off a client that does not answer by `endBy`. Its `close` is
 * awaited from the start: a client that closes the socket itself on reading
 * its subscription's error (graphql-ws's lazy clients do) may do so while
 * the endings are still being waited for, and a listener added after that
 * would wait forever (seen: a shutdown stuck for two minutes).
 */
async function endWebSocket(
  socket: WebSocket,
  openOperations: () => number,
  endBy: number,
  reason: string,
): Promise<void> {
  if (socket.readyState === socket.CLOSED) return;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Each subscription's `error` message (with where to resume) is sent before the socket closes.
  while (openOperations() > 0 && Date.now() < endBy && socket.readyState === socket.OPEN)
    await new Promise((r) => setTimeout(r, 10));
  if (socket.readyState === socket.OPEN) socket.close(GOING_AWAY, reason);
  // The client answers the close; one that does not within the bound is cut off.
  const timer = setTimeout(() => socket.terminate(), Math.max(0, endBy - Date.now()));
  await closed;
  clearTimeout(timer);
}
