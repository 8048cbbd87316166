/**
 * Test harness: a real Trialog (real SQLite store, real projections) behind a
 * real HTTP + WebSocket server on an ephemeral loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLLimits } from '../../src/config.js';
import { withLimits, type Limits } from '../../src/limits.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { openTrialog, type Trialog } from '../../src/trialog.js';

export interface TestServer {
  trialog: Trialog;
  server: RunningServer;
  url: string;
  dbPath: string;
  gql: Gql;
  stop(): Promise<void>;
}

export interface GqlResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export type Gql = <T = any>(
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<GqlResponse<T>>;

export function tempDir(prefix = 'trialog-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function gqlClient(url: string): Gql {
  return async (query, variables, headers) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GqlResponse;
  };
}

/** Data of a response that must have succeeded. */
export function ok<T>(response: GqlResponse<T>): T {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data!;
}

/** The code of a response that must have failed. */
export function errorCode(response: GqlResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}

export async function startTestServer(
  options: {
    dbPath?: string;
    graphql?: GraphQLLimits;
    adminKey?: string;
    maxSubscriberBacklog?: number;
    maxSubscriberBacklogBytes?: number;
    /** The built dashboard to serve (default: the repository's dashboard/dist). */
    dashboardDir?: string;
    /** Input and read limits other than the defaults (as TRIALOG_LIMIT_* would set them). */
    limits?: Partial<Limits>;
    /** Write large batches of the read models on their own thread, as the server does by default. */
    readModelThread?: boolean;
  } = {},
): Promise<TestServer> {
  const dir = options.dbPath ? undefined : tempDir();
  const dbPath = options.dbPath ?? join(dir!.path, 'trialog.db');
  const trialog = await openTrialog({
    dbPath,
    eventStoreUrl: undefined,
    synchronous: 'FULL',
    adminKey: options.adminKey,
    maxSubscriberBacklog: options.maxSubscriberBacklog,
    maxSubscriberBacklogBytes: options.maxSubscriberBacklogBytes,
    limits: withLimits(options.limits),
    readModelThread: options.readModelThread,
  });
  const server = await startServer(trialog, {
    port: 0,
    host: '127.0.0.1',
    graphql: options.graphql,
    dashboardDir: options.dashboardDir,
  });
  return {
    trialog,
    server,
    url: server.url,
    dbPath,
    gql: gqlClient(server.url),
    async stop() {
      await server.close();
      await trialog.close();
      dir?.remove();
    },
  };
}

export function wsClient(httpUrl: string, authorization?: string): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: authorization ? { authorization } : undefined,
  });
}

/** Collects a subscription's payloads until `until` says stop (or an error ends it). */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (items: T[]) => boolean,
): { done: Promise<T[]>; items: T[]; stop(): void } {
  const items: T[] = [];
  let stop = () => {};
  let finished = false;
  const done = new Promise<T[]>((resolve, reject) => {
    const unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          // Messages already in flight when we unsubscribed are not part of the result.
          if (finished) return;
          if (value.errors) return reject(new Error(JSON.stringify(value.errors)));
          items.push(value.data as T);
          if (until(items)) {
            finished = true;
            unsubscribe();
            resolve(items);
          }
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(items),
      },
    );
    stop = () => {
      finished = true;
      unsubscribe();
      resolve(items);
    };
  });
  return { done, items, stop: () => stop() };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { freePort } from './free-port.js';
