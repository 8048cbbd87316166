/**
 * The HTTP and WebSocket server: graphql-yoga serves queries, mutations and
 * SSE subscriptions at /graphql, and graphql-ws serves the same schema over
 * WebSocket on the same path, through yoga's envelop so both transports share
 * the context, the plugins and the error masking.
 *
 * Neither transport pulls a subscription faster than its client reads, so
 * what a slow client has not read waits in the live feed's bounded queue:
 * over SSE, yoga's event stream is a ReadableStream pulled on demand, which
 * @whatwg-node/server writes to the response waiting for 'drain'; over
 * WebSocket, see websocket-flow.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CommandContext } from './app/command-context.js';
import {
  DEFAULT_DASHBOARD_DIR,
  DEFAULT_READY_MAX_LAG_SECONDS,
  defaultGraphQLLimits,
  type GraphQLLimits,
  type PerimeterConfig,
} from './config.js';
import {
  CORRELATION_HEADER,
  correlationIdFrom,
  correlationIdOf,
  useCorrelationId,
} from './graphql/correlation-plugin.js';
import { refusalOf, useAccessControl } from './graphql/access-plugin.js';
import { useWellFormedStrings } from './graphql/well-formed-strings-plugin.js';
import { useContractErrorCodes } from './graphql/error-codes-plugin.js';
import { useSubscriptionGuards } from './graphql/subscription-guards-plugin.js';
import { useDocumentBounds } from './graphql/document-bounds-plugin.js';
import { useNoSuggestions, withoutSuggestion } from './graphql/no-suggestions-plugin.js';
import { maskError } from './graphql/errors.js';
import { useBoundedJsonBodies } from './http/bounded-json-bodies.js';
import { capConnections, httpServerOptions } from './http/connection-limits.js';
import { serveDashboard } from './http/dashboard.js';
import { offlineGraphiQL } from './http/graphiql.js';
import { errorBody, refuseRequest } from './http/error-response.js';
import { HttpDrain } from './http/drain.js';
import { judgeReadiness, lagReader, serveProbes, type Probes } from './http/health.js';
import { shutDownInOrder } from './shutdown.js';
import { refuseUnauthenticated } from './http/preauth.js';
import { MAX_CONNECTION_INIT_BYTES, serveGraphQLOverWebSocket } from './websocket/graphql-ws-server.js';
import { answeringRefusals, isSubscription } from './websocket/refusals.js';
import type { GraphQLContext } from './graphql/context.js';
import { schema } from './graphql/schema.js';
import { useCrossSiteRequestRefusal } from './http/csrf.js';
import { corsOptionsFor } from './http/origin-policy.js';
import { guardPerimeter, verifyUpgrade, type PerimeterPolicy } from './http/perimeter.js';
import type { Trialog } from './trialog.js';
import { controlSocketFlow, keepAlive, pacedBy, type SocketFlow } from './websocket-flow.js';
import { yogaLogger } from './observability/logger.js';
import { serveMetrics } from './observability/metrics-route.js';
import { observeOperations } from './observability/observe-operations.js';

export const GRAPHQL_PATH = '/graphql';

export interface RunningServer {
  url: string;
  port: number;
  httpServer: Server;
  /** Closes at once: every connection and subscription is cut (tests, and the end of `shutDown`). */
  close(): Promise<void>;
  /**
   * Steps 1 to 4 of an orderly shutdown (shutdown.ts): readiness turns false, the listener closes,
   * requests in flight finish within `graceMs`, subscriptions end saying where to resume. The
   * caller closes the store after it (step 5).
   */
  shutDown(options: { graceMs: number; log: (line: string) => void }): Promise<void>;
}

export function createTrialogYoga(
  trialog: Trialog,
  limits: GraphQLLimits,
  guards: Plugin,
  corsOrigins: readonly string[] = [],
  /** Request logs and metrics, tracing: after the error codes are final, so they see what the client gets. */
  observability: Plugin[] = [],
) {
  // GraphiQL's scripts from the package, not a CDN, under its own Content-Security-Policy.
  const graphiql = offlineGraphiQL();
  return createYoga<{ socketCorrelationId?: string; socketAuthorization?: string }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // Same-origin unless allow-listed, never with credentials; no multipart (no uploads here). See src/http.
    cors: (request) => corsOptionsFor(request.headers.get('origin'), corsOrigins),
    multipart: false,
    landingPage: false,
    // /health and /ready are ours (src/http/health.ts), answered before yoga. Yoga's own health check answers 200 to
    // any URL that ends with its endpoint: given one that no URL can end with (a URL's trailing spaces are
    // percent-encoded or trimmed), it never answers.
    healthCheckEndpoint: ' ',
    graphiql: limits.graphiql ? { subscriptionsProtocol: 'WS', title: 'Trialog' } : false,
    renderGraphiQL: graphiql.renderGraphiQL,
    maskedErrors: {
      maskError: (error, message) =>
        limits.introspection ? maskError(error, message) : withoutSuggestion(maskError(error, message)),
    },
    plugins: [
      graphiql.plugin,
      // JSON bodies bounded while parsed; documents bounded before graphql-js parses them.
      useBoundedJsonBodies(),
      useDocumentBounds(limits.maxDocumentBytes),
      // Bounds on what one document may ask for; rejected before anything runs.
      EnvelopArmorPlugin({
        maxDepth: { n: limits.maxDepth },
        maxAliases: { n: limits.maxAliases, allowList: [] }, // __typename aliases count too
        costLimit: { maxCost: limits.maxCost },
        maxDirectives: { n: limits.maxDirectives },
        maxTokens: { n: limits.maxTokens },
        blockFieldSuggestion: { enabled: false }, // useNoSuggestions, below, covers every wording
      }),
      ...(limits.introspection
        ? []
        : [
            useNoSuggestions(),
            {
              onValidate: ({
                addValidationRule,
              }: {
                addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void;
              }) => addValidationRule(NoSchemaIntrospectionCustomRule),
            },
          ]),
      useCrossSiteRequestRefusal(),
      useAccessControl(),
      guards,
      useContractErrorCodes(),
      ...observability,
      useCorrelationId(),
      // Lone surrogates in any variable: refused before anything runs (HTTP, SSE, WebSocket).
      useWellFormedStrings(),
    ],
    logging: yogaLogger(trialog.logger),
    context: ({ request, socketCorrelationId, socketAuthorization }): GraphQLContext => {
      // Over WebSocket the key comes in connectionParams, the correlation id in the upgrade request.
      const principal = trialog.access.authenticate(
        request ? request.headers.get('authorization') : socketAuthorization,
      );
      const command: CommandContext = {
        actor: principal instanceof Error ? 'anonymous' : principal.name,
        correlationId: socketCorrelationId ? correlationIdFrom(socketCorrelationId) : correlationIdOf(request),
      };
      return { trialog: trialog.services, command, principal, limits: trialog.limits };
    },
  });
}

/**
 * A request body over the limit is refused with 413 and TOO_LARGE before yoga
 * reads it; a body without Content-Length (chunked) is counted as it arrives
 * and the request is ended once it passes the limit.
 */
function limitBodies(maxBytes: number, next: (req: IncomingMessage, res: ServerResponse) => void) {
  const refuse = (res: ServerResponse) => {
    if (res.headersSent) return;
    refuseRequest(res, 413, 'TOO_LARGE', `request body over ${maxBytes} bytes`);
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume(); // drain what the client sends meanwhile
      return refuse(res);
    }
    if (req.headers['content-length'] === undefined && req.method !== 'GET') {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > maxBytes) {
          refuse(res);
          req.destroy();
        }
      });
    }
    next(req, res);
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

/** Below this much queued on a WebSocket, its subscriptions are asked for more. */
function socketHighWater(limits: GraphQLLimits): number {
  return Math.min(1024 * 1024, Math.floor(limits.maxSocketBufferBytes / 4));
}

export async function startServer(
  trialog: Trialog,
  options: {
    port: number;
    host: string;
    graphql?: GraphQLLimits;
    perimeter?: PerimeterConfig;
    dashboardDir?: string;
    /** TRIALOG_READY_MAX_LAG_SECONDS. */
    readyMaxLagSeconds?: number;
    /** OpenTelemetry's envelop plugin, when TRIALOG_OTEL turns tracing on. */
    tracing?: Plugin;
  },
): Promise<RunningServer> {
  const limits = options.graphql ?? defaultGraphQLLimits;
  const guards = useSubscriptionGuards(trialog.services.live, limits.maxSubscriptionsPerKey);
  const corsOrigins = options.perimeter?.corsOrigins ?? [];
  const observation = observeOperations(trialog);
  const observability = options.tracing ? [observation.plugin, options.tracing] : [observation.plugin];
  const yoga = createTrialogYoga(trialog, limits, guards.plugin, corsOrigins, observability);
  // The port is known once listening (port 0 picks one): the policy reads it then.
  let boundPort = options.port;
  const perimeter: PerimeterPolicy = {
    boundHost: options.host,
    get port() {
      return boundPort;
    },
    allowedHosts: options.perimeter?.allowedHosts ?? [],
    corsOrigins,
    isOpen: () => trialog.access.isOpen,
  };
  // Outermost first: the perimeter (Host, Origin), the dashboard's public files (no key, no body read),
  // then a stranger's request refused from its headers.
  // /metrics behind the same key check as the API (any valid key), before GraphQL.
  const api = refuseUnauthenticated(
    trialog.access,
    // yoga answers every request itself, errors included: its promise only says when it is done.
    serveMetrics(
      trialog.metrics,
      limitBodies(limits.maxBodyBytes, (req, res) => void yoga(req, res)),
    ),
  );
  // Probes before the perimeter (a kubelet asks by address; see health.ts), and answered while draining.
  let shuttingDown = false;
  const readLag = lagReader(trialog.runner);
  const readiness = { maxLagSeconds: options.readyMaxLagSeconds ?? DEFAULT_READY_MAX_LAG_SECONDS };
  const probes: Probes = {
    ready: async () => judgeReadiness(await readLag(), shuttingDown, readiness),
    shuttingDown: () => shuttingDown,
  };
  const httpServer = createServer(httpServerOptions(limits));
  const drain = new HttpDrain(httpServer);
  httpServer.on(
    'request',
    drain.track(
      serveProbes(
        probes,
        drain.refuseWhileDraining(
          guardPerimeter(perimeter, serveDashboard(options.dashboardDir ?? DEFAULT_DASHBOARD_DIR, api)),
        ),
      ),
    ),
  );
  capConnections(httpServer, limits);
  const verifyPerimeter = verifyUpgrade(perimeter);
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: limits.maxBodyBytes,
    verifyClient: (info, done) => {
      if (drain.isDraining)
        return done(false, 503, errorBody('the server is shutting down', 'UNAVAILABLE'), {
          'Content-Type': 'application/json',
          Connection: 'close',
        });
      verifyPerimeter(info, done);
    },
  });

  // Open connections by the key they authenticated with: a revoked key's are closed at once.
  type Connection = { socket: { close(code: number, reason: string): void } };
  const socketsByKey = new Map<string, Set<Connection>>();
  const revocations = trialog.services.live.keyRevocations();
  void (async () => {
    for await (const keyId of revocations) {
      for (const connection of socketsByKey.get(keyId) ?? []) connection.socket.close(4403, 'API key revoked');
      socketsByKey.delete(keyId);
    }
  })();
  const authorizationOf = (params: Record<string, unknown> | undefined) =>
    typeof params?.authorization === 'string' ? params.authorization : undefined;

  const flows = new WeakMap<object, SocketFlow>();
  // Each socket's graphql-ws context: its open operations are what a shutdown waits to see ended.
  const wsContexts = new Map<WebSocket, { subscriptions: Record<string, unknown> }>();
  wsServer.on('connection', (socket) => {
    const flow = controlSocketFlow(socket, {
      highWaterBytes: socketHighWater(limits),
      maxBytes: limits.maxSocketBufferBytes,
    });
    flows.set(socket, flow);
    keepAlive(socket, limits.webSocketKeepAliveMs, flow);
  });

  const wsCleanup = serveGraphQLOverWebSocket<Record<string, unknown>>(
    wsServer,
    observation.overWebSocket({
      onConnect: (ctx) => {
        const principal = trialog.access.authenticate(authorizationOf(ctx.connectionParams));
        if (principal instanceof Error) return false; // closes with 4403 Forbidden
        const socket = ctx.extra.socket;
        wsContexts.set(socket, ctx);
        socket.once('close', () => wsContexts.delete(socket));
        if (principal.keyId) {
          const connections = socketsByKey.get(principal.keyId) ?? new Set();
          const connection = { socket };
          connections.add(connection);
          socketsByKey.set(principal.keyId, connections);
          socket.once('close', () => connections.delete(connection));
        }
        return true;
      },
      // A query or mutation over WebSocket is a request in flight: a shutdown lets it finish.
      execute: (args) =>
        drain.hold(
          Promise.resolve((args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args)),
        ) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      // A refusal answers this operation only (an `error` message with its code): the socket and its other subscriptions go on.
      onSubscribe: answeringRefusals(async (ctx, _id, payload) => {
        const tooMany = (what: string, n: number) => [
          new GraphQLError(`at most ${n} subscriptions ${what}`, { extensions: { code: 'TOO_LARGE' } }),
        ];
        // Once draining, nothing new is started: the operation is told so, and nothing was done.
        if (drain.isDraining)
          return [
            new GraphQLError('the server is shutting down: nothing was done', { extensions: { code: 'UNAVAILABLE' } }),
          ];
        // graphql-ws has registered this subscription already: the counts include it.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return tooMany('per connection', limits.maxSubscriptionsPerConnection);
        }

        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          socketCorrelationId: ctx.extra.request.headers[CORRELATION_HEADER] as string | undefined,
          socketAuthorization: authorizationOf(ctx.connectionParams),
        });
        const { execute, subscribe, contextFactory, parse, validate } = enveloped;
        // envelop types what its plugins may replace as `any`: these are graphql-js's own.
        const args: ExecutionArgs = {
          schema: enveloped.schema as GraphQLSchema,
          operationName: payload.operationName,
          document: parse(payload.query) as DocumentNode,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document) as readonly GraphQLError[];
        if (errors.length) return errors;
        const refusal =
          refusalOf(args) ??
          (isSubscription(args) ? guards.refusal((args.contextValue as GraphQLContext).principal) : undefined);
        return refusal ? [refusal] : args;
      }),
      // A subscription is asked for its next result only when its socket can take it: what a
      // client has not read waits in the live feed's bounded queue, not in the socket's buffer.
      onOperation: (ctx, _id, _payload, _args, result) => {
        const flow = flows.get(ctx.extra.socket);
        return flow && isAsyncIterable(result) ? pacedBy(flow, result) : undefined;
      },
    }),
    { maxInitBytes: MAX_CONNECTION_INIT_BYTES, maxMessageBytes: limits.maxBodyBytes },
    trialog.logger,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  boundPort = port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  const close = async () => {
    revocations.close();
    guards.dispose();
    await wsCleanup.dispose();
    await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };
  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    httpServer,
    close,
    shutDown: (shutdownOptions) =>
      shutDownInOrder(shutdownOptions, {
        trialog,
        drain,
        httpServer,
        stopReadiness: () => (shuttingDown = true),
        stopWatchers: () => {
          revocations.close();
          guards.dispose();
        },
        // Every socket, not only those past connection_init: one that never sent it (or was refused) and never
        // answers a close frame would otherwise hold the shutdown for ws's own 30 s close timeout.
        webSockets: () =>
          [...wsServer.clients].map((socket) => {
            const ctx = wsContexts.get(socket);
            return { socket, openOperations: () => (ctx ? Object.keys(ctx.subscriptions).length : 0) };
          }),
        closeAll: close,
      }),
  };
}
