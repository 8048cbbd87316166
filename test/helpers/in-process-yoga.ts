/**
 * The GraphQL app in process: the server's own yoga (every plugin, in the
 * server's order) over a real Trialog (real SQLite store and projections),
 * answered through `yoga.fetch`: no port, no socket. For specifications of
 * the GraphQL plugins, where HTTP itself is not the behaviour under test.
 */
import { join } from 'node:path';
import { defaultGraphQLLimits, type GraphQLLimits } from '../../src/config.js';
import { useSubscriptionGuards } from '../../src/graphql/subscription-guards-plugin.js';
import { GRAPHQL_PATH, createTrialogYoga } from '../../src/server.js';
import { openTrialog, type Trialog } from '../../src/trialog.js';
import { tempDir } from './server.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: any;
    errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
  };
}

export interface InProcessYoga {
  yoga: ReturnType<typeof createTrialogYoga>;
  trialog: Trialog;
  /** POSTs one operation as JSON, as every client of ours does. */
  post(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer>;
  /** Any request, for bodies a client would not send. */
  fetch(init: RequestInit & { path?: string }): Promise<Response>;
  close(): Promise<void>;
}

export const URL_BASE = 'http://trialog.test';

export async function inProcessYoga(
  options: { adminKey?: string; graphql?: Partial<GraphQLLimits> } = {},
): Promise<InProcessYoga> {
  const dir = tempDir('trialog-yoga-');
  const trialog = await openTrialog({
    dbPath: join(dir.path, 'trialog.db'),
    eventStoreUrl: undefined,
    synchronous: 'NORMAL',
    adminKey: options.adminKey,
  });
  const limits = { ...defaultGraphQLLimits, ...options.graphql };
  const guards = useSubscriptionGuards(trialog.services.live, limits.maxSubscriptionsPerKey);
  const yoga = createTrialogYoga(trialog, limits, guards.plugin);
  const fetch = ({ path = GRAPHQL_PATH, ...init }: RequestInit & { path?: string }) =>
    Promise.resolve(yoga.fetch(`${URL_BASE}${path}`, init));
  return {
    yoga,
    trialog,
    fetch,
    async post(query, variables, headers) {
      const response = await fetch({
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
    },
    async close() {
      guards.dispose();
      await trialog.close();
      dir.remove();
    },
  };
}

/** The code of an answer's first error. */
export const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.code;
