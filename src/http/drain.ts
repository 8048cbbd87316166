/**
 * What the HTTP server has open, so that a shutdown can stop taking work
 * without cutting off any it took:
 *
 * - Requests in flight are counted, over HTTP and (through `hold`) over
 *   WebSocket; an event stream (SSE) whose headers are out is a stream, not
 *   a request in flight: it ends when the live feed ends its subscription.
 * - Once draining, every response not yet started says `Connection: close`,
 *   and a request that still arrives on an open connection (a kept-alive
 *   one, after the listener closed) is answered 503 with UNAVAILABLE and
 *   `Connection: close`: an answer, never a reset, and nothing done.
 * - An idle kept-alive connection is not cut: a client may be sending on it
 *   at that very moment, and would see a reset for a request it cannot know
 *   was not run. It ends as every idle connection does, when its keep-alive
 *   timeout passes (the client knows that timeout from the Keep-Alive header
 *   and stops using the connection first), or with the 503 above.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody } from './error-response.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DrainCounts {
  /** HTTP requests being answered (not event streams), and operations over WebSocket. */
  requests: number;
  /** Event streams (SSE) open. */
  streams: number;
  /** HTTP connections open with nothing in flight on them (kept alive, or no request yet). */
  idleConnections: number;
}

const isEventStream = (res: ServerResponse) =>
  res.headersSent && /^text\/event-stream/i.test(String(res.getHeader('content-type') ?? ''));

export class HttpDrain {
  private draining = false;
  private readonly sockets = new Set<Socket>();
  private readonly upgraded = new WeakSet<Duplex>();
  private readonly responsesBySocket = new Map<Socket, Set<ServerResponse>>();
  private held = 0;
  private readonly listeners = new Set<() => void>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.responsesBySocket.delete(socket);
        this.changed();
      });
    });
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => this.upgraded.add(socket));
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Wraps the server's handler: counts each request until its response closes. */
  track(next: Handler): Handler {
    return (req, res) => {
      const socket = req.socket;
      const open = this.responsesBySocket.get(socket) ?? new Set();
      this.responsesBySocket.set(socket, open);
      open.add(res);
      if (this.draining) res.setHeader('connection', 'close');
      res.once('close', () => {
        open.delete(res);
        this.changed();
      });
      next(req, res);
    };
  }

  /** Wraps the handler that does the work: once draining, a request gets 503 UNAVAILABLE instead. */
  refuseWhileDraining(next: Handler): Handler {
    return (req, res) => {
      if (!this.draining) return next(req, res);
      req.resume(); // the body is drained unread
      const body = errorBody(
        'the server is shutting down: nothing was done; send it again (to another server, or to this one once it is back)',
        'UNAVAILABLE',
      );
      res.writeHead(503, {
        'content-type': 'application/json',
        connection: 'close',
        'retry-after': '1',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
  }

  /** Counts `work` (an operation over WebSocket) as a request in flight until it settles. */
  hold<T>(work: Promise<T>): Promise<T> {
    this.held++;
    const release = () => {
      this.held--;
      this.changed();
    };
    work.then(release, release);
    return work;
  }

  /** From now on: responses say `Connection: close`, new requests are refused. */
  startDraining(): void {
    this.draining = true;
    for (const responses of this.responsesBySocket.values()) {
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
    }
  }

  counts(): DrainCounts {
    let requests = this.held;
    let streams = 0;
    let idleConnections = 0;
    for (const socket of this.sockets) {
      if (this.upgraded.has(socket)) continue;
      const responses = this.responsesBySocket.get(socket);
      if (!responses || responses.size === 0) {
        idleConnections++;
        continue;
      }
      for (const res of responses) {
        if (isEventStream(res)) streams++;
        else requests++;
      }
    }
    return { requests, streams, idleConnections };
  }

  /**
   * Resolves true once `done(counts)` holds, or false at `deadline` (ms since
   * the epoch). Checked whenever a request, operation or connection ends.
   */
  until(done: (counts: DrainCounts) => boolean, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.counts())) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      // A response turning into an event stream (its headers going out) fires no event: looked at now and then too.
      const recheck = setInterval(check, 100);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        clearInterval(recheck);
        this.listeners.delete(check);
        resolve(result);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Ends every connection still open (WebSockets excepted: their server closes them). */
  destroyAll(): number {
    let destroyed = 0;
    for (const socket of this.sockets) {
      if (this.upgraded.has(socket)) continue;
      socket.destroy();
      destroyed++;
    }
    return destroyed;
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
