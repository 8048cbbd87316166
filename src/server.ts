/**
 * The HTTP and WebSocket server: graphql-yoga serves queries, mutations and
 * SSE subscriptions at /graphql, and graphql-ws serves the same schema over
 * WebSocket on the same path, through yoga's envelop so both transports share
 * the context, the plugins and the error masking.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { CommandContext } from './app/command-context.js';
import { CORRELATION_HEADER, correlationIdFrom, correlationIdOf, useCorrelationId } from './graphql/correlation-plugin.js';
import { useContractErrorCodes } from './graphql/error-codes-plugin.js';
import { maskError } from './graphql/errors.js';
import type { GraphQLContext } from './graphql/context.js';
import { schema } from './graphql/schema.js';
import type { Trialog } from './trialog.js';

export const GRAPHQL_PATH = '/graphql';

export interface RunningServer {
  url: string;
  port: number;
  httpServer: Server;
  close(): Promise<void>;
}

export function createTrialogYoga(trialog: Trialog) {
  return createYoga<{ socketCorrelationId?: string }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: { subscriptionsProtocol: 'WS', title: 'Trialog' },
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
    plugins: [useContractErrorCodes(), useCorrelationId()],
    logging: process.env.TRIALOG_LOG_LEVEL === 'debug' ? 'debug' : 'warn',
    context: ({ request, socketCorrelationId }): GraphQLContext => {
      const command: CommandContext = {
        actor: 'anonymous',
        // Over WebSocket the upgrade request's header names the whole connection.
        correlationId: socketCorrelationId ? correlationIdFrom(socketCorrelationId) : correlationIdOf(request),
      };
      return { trialog, command };
    },
  });
}

export async function startServer(trialog: Trialog, options: { port: number; host: string }): Promise<RunningServer> {
  const yoga = createTrialogYoga(trialog);
  const httpServer = createServer(yoga);
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });

  const wsCleanup = useServer<Record<string, unknown>>(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          socketCorrelationId: ctx.extra.request.headers[CORRELATION_HEADER] as string | undefined,
        });
        const args: ExecutionArgs = {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    httpServer,
    async close() {
      await wsCleanup.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
