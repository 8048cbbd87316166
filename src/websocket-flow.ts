/**
 * A WebSocket client that stops reading must cost the server a bounded amount
 * of memory, and must learn where to resume when it reads again:
 *
 * - Backpressure: a subscription is not asked for its next result while the
 *   socket has more than a high-water mark queued. Undelivered events then
 *   wait in the live feed's queue, which is bounded in events and bytes and
 *   ends the subscription with where to resume (an `error` message, queued
 *   behind what the client has not read yet).
 * - A hard cap: past `maxBytes` queued (many subscriptions on one socket each
 *   sending a large result at once) the socket is closed (4008).
 * - Keep-alive: a ping the client has not answered ends the connection only
 *   when nothing was sent after the ping and nothing is queued. A client that
 *   is not reading cannot answer a ping that sits behind data it has not read;
 *   its memory is bounded by the above, and the kernel's TCP timeouts find a
 *   peer that is gone. (Ended that way, the client still gets everything
 *   already handed to the kernel, then the connection's end.)
 */
import type { WebSocket } from 'ws';

export interface SocketFlowLimits {
  /** Bytes queued on the socket above which no subscription is asked for more. */
  highWaterBytes: number;
  /** Bytes queued on the socket past which it is closed (TRIALOG_MAX_SOCKET_BUFFER_BYTES). */
  maxBytes: number;
}

export interface SocketFlow {
  /** Resolves once the socket has less than the high-water mark queued, or is closing. */
  whenWritable(): Promise<void>;
  /** Messages sent so far. */
  readonly sent: number;
}

type SendCallback = (error?: Error) => void;

/**
 * How often a socket with waiting subscriptions is looked at again, in case
 * neither a send's completion nor the connection's `drain` said it may go on.
 */
const RECHECK_MS = 500;

export function controlSocketFlow(socket: WebSocket, limits: SocketFlowLimits): SocketFlow {
  const waiting = new Set<() => void>();
  let sent = 0;
  const writable = () => socket.readyState !== socket.OPEN || socket.bufferedAmount < limits.highWaterBytes;
  let recheck: NodeJS.Timeout | undefined;
  const wakeIfWritable = () => {
    if (waiting.size === 0 || !writable()) return;
    for (const wake of waiting) wake();
    waiting.clear();
    clearInterval(recheck);
    recheck = undefined;
  };
  socket.once('close', wakeIfWritable);
  // The connection's `drain` (its buffer emptied after a write that had to wait) is the other moment to look:
  // bytes written without a completion of ours (a ping) may be the last to leave. And while anyone waits the
  // socket is looked at twice a second: a stalled subscription that the transport could serve was seen once in
  // CI under load (test/e2e/subscriber-memory.test.ts), its cause not found; a missed wake-up now costs at
  // most that, never the subscription.
  (socket as unknown as { _socket?: NodeJS.EventEmitter })._socket?.on('drain', wakeIfWritable);
  const waitUntilWritable = () =>
    new Promise<void>((resolve) => {
      waiting.add(resolve);
      recheck ??= setInterval(wakeIfWritable, RECHECK_MS);
    });

  // Every message goes through send, and the buffer shrinks only as sends complete: each
  // completion is the moment to see whether the waiting subscriptions may go on.
  const send = socket.send.bind(socket) as (data: unknown, options: object, cb?: SendCallback) => void;
  (
    socket as unknown as { send: (data: unknown, optionsOrCb?: object | SendCallback, cb?: SendCallback) => void }
  ).send = (data, optionsOrCb, cb) => {
    const options = typeof optionsOrCb === 'function' ? {} : (optionsOrCb ?? {});
    const done = typeof optionsOrCb === 'function' ? optionsOrCb : cb;
    if (socket.bufferedAmount > limits.maxBytes) {
      socket.close(4008, 'subscriber too far behind: reconnect and resume from the last position received');
      done?.(new Error('socket closed: subscriber too far behind'));
      return;
    }
    sent++;
    send(data, options, (error) => {
      wakeIfWritable();
      done?.(error);
    });
  };

  return {
    whenWritable: () => (writable() ? Promise.resolve() : waitUntilWritable()),
    get sent() {
      return sent;
    },
  };
}

/**
 * Asks `source` for its next result only when the socket can take it. Keeps
 * `return` reaching the source at once (graphql-ws calls it when the client
 * completes the operation or the socket closes), even while a pull waits.
 */
export function pacedBy<T>(flow: SocketFlow, source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const paced: AsyncGenerator<T> = {
    next: async () => {
      await flow.whenWritable();
      return iterator.next();
    },
    return: async (value?: unknown) =>
      iterator.return ? iterator.return(value) : ({ done: true, value } as IteratorResult<T>),
    throw: async (error?: unknown) => {
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]: () => paced,
  };
  return paced;
}

/**
 * Pings every `intervalMs`. A ping still unanswered one interval later ends
 * the connection if it was the last thing sent and nothing is queued: then the
 * client had it in hand and did not answer. Otherwise it may sit behind data
 * the client has not read yet, and another ping follows.
 */
export function keepAlive(socket: WebSocket, intervalMs: number, flow: SocketFlow): void {
  let awaitingPong = false;
  let sentBeforePing = 0;
  socket.on('pong', () => (awaitingPong = false));
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (awaitingPong && flow.sent === sentBeforePing && socket.bufferedAmount === 0) {
      socket.terminate();
      return;
    }
    awaitingPong = true;
    sentBeforePing = flow.sent;
    socket.ping();
  }, intervalMs);
  socket.once('close', () => clearInterval(timer));
}
