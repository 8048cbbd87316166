/**
 * Clients that record exactly how a server ended each thing they had open:
 * a mutation's answer (or how its connection failed), an SSE stream's last
 * messages, a WebSocket's close code and reason.
 */
import { request, type Agent } from 'node:http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface AnsweredBody {
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export type Outcome =
  | { kind: 'answered'; status: number; body: AnsweredBody; connection: string | undefined }
  /** The connection could not be made (the listener was closed): the request never reached the server. */
  | { kind: 'not-connected'; code: string }
  /** The connection broke after the request was sent: the client cannot know whether it was done. */
  | { kind: 'cut'; code: string };

/** POSTs a GraphQL request over `agent` (kept-alive connections), recording how it ended. */
export function postGraphQL(
  agent: Agent,
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ query, variables });
    let connected = false;
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: AnsweredBody;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
          }
          resolve({ kind: 'answered', status: res.statusCode ?? 0, body: parsed, connection: res.headers.connection });
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'cut', code: error.code ?? error.message }));
      },
    );
    req.on('socket', (socket) => {
      if (!socket.connecting)
        connected = true; // a kept-alive connection, reused
      else socket.once('connect', () => (connected = true));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve(
        connected
          ? { kind: 'cut', code: error.code ?? error.message }
          : { kind: 'not-connected', code: error.code ?? error.message },
      );
    });
    req.end(body);
  });
}

export interface SseMessage {
  event: string;
  data: any;
}

/** An SSE subscription that records every message until the stream ends. */
export function sseSubscription(url: string, query: string, variables: Record<string, unknown> = {}) {
  const messages: SseMessage[] = [];
  const controller = new AbortController();
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const ended = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    opened();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'ended' as const;
        buffer += decoder.decode(value, { stream: true });
        let split;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (event) messages.push({ event, data: data ? JSON.parse(data) : undefined });
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return 'aborted' as const;
      return `cut: ${(error as Error).message}` as const;
    }
  })();
  return { messages, open, ended, abort: () => controller.abort() };
}

/** A graphql-ws subscription that records its payloads, its error and the socket's close. */
export function wsSubscription(url: string, query: string, variables: Record<string, unknown> = {}) {
  const payloads: any[] = [];
  let errors: any[] | undefined;
  let closed: { code: number; reason: string } | undefined;
  let acknowledged!: () => void;
  const connected = new Promise<void>((resolve) => (acknowledged = resolve));
  let socketClosed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (socketClosed = resolve));
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {}, // the close is recorded below
    on: {
      connected: () => acknowledged(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closed = { code, reason: String(reason) };
        socketClosed();
      },
    },
  });
  const ended = new Promise<void>((resolve) => {
    client.subscribe(
      { query, variables },
      {
        next: (value) => void payloads.push(value.data),
        error: (error) => {
          if (Array.isArray(error)) errors = error;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return {
    payloads,
    connected,
    ended,
    whenClosed,
    get errors() {
      return errors;
    },
    get closed() {
      return closed;
    },
    dispose: () => client.dispose(),
  };
}
