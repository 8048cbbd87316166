/**
 * The browser-facing perimeter over real HTTP and WebSocket: allow-listed
 * origins get CORS (never with credentials), a WebSocket upgrade is checked
 * for Origin and Host before graphql-ws sees it, the Host allow-list serves a
 * proxy, and the clients that are not browsers go on working.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PerimeterConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { openTrialog, type Trialog } from '../../src/trialog.js';
import { collect, tempDir, wsClient } from '../helpers/server.js';

const DASHBOARD = 'http://dash.example:5173';
const ADMIN_KEY = 'perimeter-test-admin-key-0123456789abcdef';

interface Running {
  trialog: Trialog;
  server: RunningServer;
  stop(): Promise<void>;
}

async function start(host: string, perimeter: PerimeterConfig, adminKey?: string): Promise<Running> {
  const dir = tempDir();
  const trialog = await openTrialog({
    dbPath: `${dir.path}/trialog.db`,
    eventStoreUrl: undefined,
    synchronous: 'FULL',
    adminKey,
  });
  const server = await startServer(trialog, { port: 0, host, perimeter });
  return {
    trialog,
    server,
    async stop() {
      await server.close();
      await trialog.close();
      dir.remove();
    },
  };
}

/** One HTTP request with exactly these headers (node:http sends the Host it is given). */
function send(
  port: number,
  options: { method?: string; host?: string; headers?: Record<string, string>; body?: string; path?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: options.path ?? '/graphql',
      method: options.method ?? 'POST',
      setHost: false,
      headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const QUERY = JSON.stringify({ query: '{ jobs { totalCount } }' });
const json = { 'content-type': 'application/json' };
const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.startsWith('access-control-'));

/** A WebSocket upgrade with these headers: its HTTP answer, or 101 if it opened. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.on('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('given an open server on loopback with one allow-listed dashboard origin', () => {
  let s: Running;
  let port: number;
  beforeAll(async () => {
    s = await start('127.0.0.1', { corsOrigins: [DASHBOARD], allowedHosts: [] });
    port = s.server.port;
  });
  afterAll(async () => {
    await s.stop();
  });

  it('when the dashboard asks for a preflight, then it is allowed its headers, without credentials', async () => {
    const response = await send(port, {
      method: 'OPTIONS',
      headers: {
        origin: DASHBOARD,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(DASHBOARD);
    expect(String(response.headers['access-control-allow-headers'])).toMatch(/authorization/);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('when the dashboard posts a query, then it is answered with its own origin allowed and Vary: Origin', async () => {
    const response = await send(port, { headers: { ...json, origin: DASHBOARD }, body: QUERY });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { jobs: { totalCount: 0 } } });
    expect(response.headers['access-control-allow-origin']).toBe(DASHBOARD);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(response.headers.vary)).toMatch(/Origin/i);
  });

  it('when a page of the server itself (GraphiQL) posts, then it is answered with no CORS headers: none are needed', async () => {
    const response = await send(port, { headers: { ...json, origin: `http://127.0.0.1:${port}` }, body: QUERY });
    expect(response.status).toBe(200);
    expect(corsHeaders(response.headers)).toEqual([]);
  });

  it('when another origin posts or asks for a preflight, then 403 FORBIDDEN and no CORS headers', async () => {
    for (const method of ['POST', 'OPTIONS']) {
      const response = await send(port, {
        method,
        headers: { ...json, origin: 'http://dash.example:5174', 'access-control-request-method': 'POST' },
        body: QUERY,
      });
      expect(response.status, method).toBe(403);
      expect(JSON.parse(response.body).errors[0].extensions.code).toBe('FORBIDDEN');
      expect(corsHeaders(response.headers), method).toEqual([]);
    }
  });

  it('when a GET query carries the CSRF header, then it runs; without it, 403 FORBIDDEN', async () => {
    const path = `/graphql?query=${encodeURIComponent('{ jobs { totalCount } }')}`;
    const withHeader = await send(port, {
      method: 'GET',
      path,
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    });
    expect(JSON.parse(withHeader.body)).toEqual({ data: { jobs: { totalCount: 0 } } });
    const bare = await send(port, { method: 'GET', path, headers: { accept: 'application/json' } });
    expect(bare.status).toBe(403);
    expect(JSON.parse(bare.body).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('when a WebSocket upgrade comes from another origin or names another host, then it is refused with 403 before graphql-ws', async () => {
    // An HTTP answer instead of 101: the handshake never completed, so graphql-ws never saw the socket.
    const refusedHeaders: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port + 1}` },
      { host: `rebind.example:${port}` },
      { host: `rebind.example:${port}`, origin: `http://rebind.example:${port}` },
    ];
    for (const headers of refusedHeaders) {
      const refused = await upgrade(s.server.url, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    expect(await s.trialog.store.headPosition()).toBeUndefined();
  });

  it('when a WebSocket upgrade comes with no Origin, the allow-listed one or its own, then graphql-ws serves it', async () => {
    const servedHeaders: Record<string, string>[] = [
      {},
      { origin: DASHBOARD },
      { origin: `http://127.0.0.1:${port}` },
      { origin: `http://localhost:${port}`, host: `localhost:${port}` },
    ];
    for (const headers of servedHeaders) {
      expect((await upgrade(s.server.url, headers)).status, JSON.stringify(headers)).toBe(101);
    }
    // And a graphql-ws client (the CLI's, the worker's) runs a subscription as before.
    const client = wsClient(s.server.url);
    const changes = collect<{ events: { type: string } }>(
      client,
      'subscription { events { type } }',
      {},
      (items) => items.length === 1,
    );
    await send(port, { headers: json, body: JSON.stringify({ query: 'mutation { createJob(input: {}) { id } }' }) });
    expect((await changes.done)[0]!.events.type).toBe('JobCreated');
    await client.dispose();
  });
});

describe('given a server behind a proxy that forwards its public name', () => {
  let s: Running;
  beforeAll(async () => {
    s = await start('127.0.0.1', { corsOrigins: [], allowedHosts: ['trialog.example.com'] });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('when a request names an allow-listed host, then it is served; another name gets 403 FORBIDDEN', async () => {
    const listed = await send(s.server.port, { host: 'trialog.example.com', headers: json, body: QUERY });
    expect(listed.status).toBe(200);
    const other = await send(s.server.port, { host: 'other.example.com', headers: json, body: QUERY });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body).errors[0].extensions.code).toBe('FORBIDDEN');
    expect(JSON.parse(other.body).errors[0].message).toMatch(/TRIALOG_ALLOWED_HOSTS/);
  });
});

describe('given a server bound to every interface', () => {
  it('with keys required and no host allow-list, then a request under any name is served (it needs a key, which no page has)', async () => {
    const s = await start('0.0.0.0', { corsOrigins: [], allowedHosts: [] }, ADMIN_KEY);
    try {
      const named = await send(s.server.port, {
        host: `gpu-box.lab:${s.server.port}`,
        headers: { ...json, authorization: `Bearer ${ADMIN_KEY}` },
        body: QUERY,
      });
      expect(JSON.parse(named.body)).toEqual({ data: { jobs: { totalCount: 0 } } });
      const noKey = await send(s.server.port, { host: `rebind.example:${s.server.port}`, headers: json, body: QUERY });
      expect(JSON.parse(noKey.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await s.stop();
    }
  });

  it('running open (no key), then only the loopback names are served', async () => {
    const s = await start('0.0.0.0', { corsOrigins: [], allowedHosts: [] });
    try {
      expect(
        (await send(s.server.port, { host: `localhost:${s.server.port}`, headers: json, body: QUERY })).status,
      ).toBe(200);
      expect(
        (await send(s.server.port, { host: `rebind.example:${s.server.port}`, headers: json, body: QUERY })).status,
      ).toBe(403);
    } finally {
      await s.stop();
    }
  });
});
