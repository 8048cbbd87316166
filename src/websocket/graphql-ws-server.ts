/**
 * graphql-ws on a `ws` server: graphql-ws's own `makeServer`, with our wiring
 * instead of `graphql-ws/use/ws` so that a stranger's messages are bounded
 * before they are parsed:
 *
 * - Until the connection is acknowledged (a valid key in `connection_init`),
 *   a message may be at most `maxInitBytes`: `ws` stops reading one past that
 *   (close 1009) instead of buffering it, and nothing bigger is ever parsed.
 *   A socket that sends no `connection_init` is closed after
 *   `connectionInitWaitTimeout` (graphql-ws: 4408).
 * - Every message is parsed with its depth bounded while parsing and in turns
 *   of the event loop (bounded-json.ts), in the order the messages came.
 * - A client that sends faster than its messages are parsed is held back:
 *   past `maxMessageBytes` of bytes waiting to be parsed, the socket stops
 *   being read (TCP pushes back on the sender) until the queue drains, so a
 *   socket holds at most about two messages' worth, not all it sent.
 * - Keep-alive is ours (websocket-flow.ts), which does not cut off a client
 *   for reading slowly: this wiring pings nobody.
 * - What goes wrong in handling one message is logged in one line and closes
 *   that socket (4500), as `use/ws` does, without a stack per message.
 */
import type { IncomingMessage } from 'node:http';
import { CloseCode, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { JsonRefusal, MAX_JSON_NESTING, parseJsonInTurns } from '../http/bounded-json.js';
import { quietLogger, type Logger } from '../observability/logger.js';

export interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
}

export interface MessageBounds {
  /** Bytes of a message before the connection is acknowledged (connection_init). */
  maxInitBytes: number;
  /** Bytes of any message after it (the server's maxPayload). */
  maxMessageBytes: number;
}

/** The first message's bound: room for a key and a few parameters. */
export const MAX_CONNECTION_INIT_BYTES = 4 * 1024;

/**
 * `ws` checks each frame's length against its receiver's limit before reading
 * the payload; it has no per-socket option, so the limit is set on the
 * receiver (ws 8's `_receiver._maxPayload`). Where that is missing, the length
 * is still checked before parsing.
 */
function setMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

const sizeOf = (data: Buffer | ArrayBuffer | Buffer[]) =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
const textOf = (data: Buffer | ArrayBuffer | Buffer[]) =>
  Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();

const oneLine = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split('\n')[0];

/** Bytes received and not yet parsed on one socket; reading pauses while they exceed `limit`. */
function waitingBytes(socket: WebSocket, limit: number) {
  let bytes = 0;
  return {
    add(size: number) {
      bytes += size;
      if (bytes > limit && !socket.isPaused) socket.pause();
    },
    remove(size: number) {
      bytes -= size;
      if (bytes <= limit && socket.isPaused) socket.resume();
    },
  };
}

/**
 * Sends without waiting for each write to complete, and writes what is sent in
 * one turn of the event loop together. graphql-ws awaits every `send` before
 * it asks a subscription for its next result: resolving only once the kernel
 * had the frame cost one write call and one loop turn per message (a log line
 * each), and most of a log subscriber's time. Holding back a client that does
 * not read is not this promise's job: the socket's queued bytes are (see
 * `pacedBy` and the hard cap in websocket-flow.ts, which see corked bytes as
 * queued), and a write that fails closes the socket, which ends its
 * subscriptions.
 */
function coalescedSends(socket: WebSocket): { send(data: string): void } {
  const connection = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  let corked = false;
  return {
    send(data) {
      if (socket.readyState !== socket.OPEN) return;
      if (connection && !corked) {
        corked = true;
        connection.cork();
        setImmediate(() => {
          corked = false;
          connection.uncork();
        });
      }
      socket.send(data);
    },
  };
}

export function serveGraphQLOverWebSocket<P extends Record<string, unknown>>(
  wsServer: WebSocketServer,
  options: ServerOptions<P, Extra>,
  bounds: MessageBounds,
  log: Pick<Logger, 'error'> = quietLogger(),
): { dispose(): Promise<void> } {
  const acknowledged = new WeakSet<WebSocket>();
  const server = makeServer<P, Extra>({
    ...options,
    onConnect: async (ctx) => {
      const permitted = await options.onConnect?.(ctx);
      if (permitted !== false) {
        // Once a key is accepted, a message may be as large as a request body.
        acknowledged.add(ctx.extra.socket);
        setMaxPayload(ctx.extra.socket, bounds.maxMessageBytes);
      }
      return permitted;
    },
  });
  wsServer.options.handleProtocols = (protocols) =>
    protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false;
  wsServer.on('error', (error) => log.error(`WebSocket server error: ${oneLine(error)}`));

  wsServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.once('error', (error: Error & { code?: string }) => {
      // ws has closed the socket already for a client's protocol fault (a message too large, say): not ours to log.
      if (error.code?.startsWith('WS_ERR_')) return;
      socket.close(CloseCode.InternalServerError, 'Internal server error');
      log.error(`WebSocket error: ${oneLine(error)}`);
    });
    setMaxPayload(socket, bounds.maxInitBytes);
    let parsing: Promise<unknown> = Promise.resolve();
    const waiting = waitingBytes(socket, bounds.maxMessageBytes);
    const messages = coalescedSends(socket);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => messages.send(data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
            const limit = acknowledged.has(socket) ? bounds.maxMessageBytes : bounds.maxInitBytes;
            if (sizeOf(data) > limit) return socket.close(1009, `message over ${limit} bytes`);
            // Parsed one after another, so a small message does not overtake a large one.
            const size = sizeOf(data);
            waiting.add(size);
            const parsed = parsing.then(() => parseJsonInTurns(textOf(data), { maxDepth: MAX_JSON_NESTING }));
            parsing = parsed.catch(() => undefined).finally(() => waiting.remove(size));
            parsed.then(
              // graphql-ws validates an object as it would the text it parses (`parseMessage`).
              async (message) => {
                try {
                  await handle(message as never);
                } catch (error) {
                  log.error(`WebSocket message failed: ${oneLine(error)}`);
                  socket.close(CloseCode.InternalServerError, 'Internal server error');
                }
              },
              (error: unknown) => {
                const why = error instanceof JsonRefusal ? error.message : 'Invalid message received';
                socket.close(CloseCode.BadRequest, why.slice(0, 120));
              },
            );
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });

  return {
    async dispose() {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
