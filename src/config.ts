/**
 * Configuration from the environment, checked once at start. A bad value
 * stops the server with one line naming the variable, not a stack trace.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CACHE_BYTES } from './app/repository.js';
import { parseHostList, parseOriginList } from './http/origin-policy.js';
import { limitsFromEnv, type Limits } from './limits.js';
import { PACKAGE_ROOT } from './package-root.js';
import { redactUrl } from './redact-url.js';
import { connectionStringProblem } from './store/eventstoredb/connection-string.js';

const wholeNumber = () =>
  z.coerce
    .number({ error: 'must be a whole number of 1 or more' })
    .int('must be a whole number of 1 or more')
    .min(1, 'must be a whole number of 1 or more');
const count = (fallback: number) => wholeNumber().default(fallback);
const seconds = (fallback: number, min: number) =>
  z.coerce
    .number({ error: `must be a whole number of seconds, ${min} or more` })
    .int(`must be a whole number of seconds, ${min} or more`)
    .min(min, `must be a whole number of seconds, ${min} or more`)
    .max(86_400, 'must be at most 86400 seconds (a day)')
    .default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** A comma-separated list, each entry checked by `parse` (which throws saying what is wrong). */
const listOf = (parse: (text: string) => string[]) =>
  z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `has ${(error as Error).message}` });
        return z.NEVER;
      }
    });

/** pino's levels, quietest last: TRIALOG_LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** TRIALOG_OTEL: no tracing (the OpenTelemetry SDK is not even loaded), or spans sent over OTLP/HTTP or printed. */
export const TRACING_MODES = ['off', 'otlp', 'console'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

/** How long a mutation waits for the read models to include its events (TRIALOG_READ_MODEL_WAIT_SECONDS). */
export const DEFAULT_READ_MODEL_WAIT_SECONDS = 30;

/** Where `npm run build:dashboard` writes: found from the package's root, so any working directory serves it. */
export const DEFAULT_DASHBOARD_DIR = join(PACKAGE_ROOT, 'dashboard', 'dist') + '/';

/** /ready answers 503 once the read models are further behind the log than this. */
export const DEFAULT_READY_MAX_LAG_SECONDS = 30;
/** How long a shutdown waits for requests in flight before it cuts them off. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 10;

const Config = z.object({
  PORT: z.coerce
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int('must be a whole number from 0 to 65535')
    .min(0, 'must be a whole number from 0 to 65535')
    .max(65535, 'must be a whole number from 0 to 65535')
    .default(4000),
  HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  TRIALOG_DB: z.string().min(1, 'must be a file path or :memory:').default('./data/trialog.db'),
  EVENTSTORE_URL: z
    .string()
    .regex(/^esdb(\+discover)?:\/\/.+/, 'must be an esdb:// connection string, e.g. esdb://localhost:2113?tls=false')
    .optional(),
  TRIALOG_MAX_APPEND_BYTES: wholeNumber().optional(),
  TRIALOG_READ_MODEL_WAIT_SECONDS: seconds(DEFAULT_READ_MODEL_WAIT_SECONDS, 1),
  TRIALOG_STORE_START_SECONDS: seconds(60, 1),
  TRIALOG_SYNCHRONOUS: z.enum(['FULL', 'NORMAL'], { error: 'must be FULL or NORMAL' }).default('FULL'),
  TRIALOG_AGGREGATE_CACHE_BYTES: count(DEFAULT_CACHE_BYTES),
  TRIALOG_READ_MODEL_THREAD: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  // Sent in an HTTP header (or connectionParams) and compared exactly, after the header's spaces are trimmed: a key
  // with spaces or characters a header cannot carry as they are would be accepted here and never match.
  TRIALOG_ADMIN_KEY: z
    .string()
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces (it is sent in an HTTP header)')
    .min(32, 'must be at least 32 characters')
    .optional(),
  TRIALOG_MAX_DEPTH: count(12),
  TRIALOG_MAX_ALIASES: count(100),
  TRIALOG_MAX_COST: count(200_000),
  TRIALOG_MAX_DIRECTIVES: count(50),
  TRIALOG_MAX_TOKENS: count(10_000),
  TRIALOG_MAX_BODY_BYTES: count(20 * 1024 * 1024),
  TRIALOG_MAX_DOCUMENT_BYTES: count(100 * 1024),
  TRIALOG_MAX_CONNECTIONS: count(1000),
  TRIALOG_MAX_CONNECTIONS_PER_ADDRESS: count(100),
  TRIALOG_HEADERS_TIMEOUT_MS: count(10_000),
  TRIALOG_REQUEST_TIMEOUT_MS: count(60_000),
  TRIALOG_MAX_SUBSCRIPTIONS_PER_CONNECTION: count(100),
  TRIALOG_MAX_SUBSCRIPTIONS_PER_KEY: count(1000),
  TRIALOG_MAX_SOCKET_BUFFER_BYTES: count(16 * 1024 * 1024),
  TRIALOG_MAX_SUBSCRIBER_BACKLOG: count(10_000),
  TRIALOG_MAX_SUBSCRIBER_BACKLOG_BYTES: count(32 * 1024 * 1024),
  TRIALOG_INTROSPECTION: flag(true),
  TRIALOG_GRAPHIQL: flag(true),
  TRIALOG_CORS_ORIGINS: listOf(parseOriginList),
  TRIALOG_ALLOWED_HOSTS: listOf(parseHostList),
  TRIALOG_DASHBOARD_DIR: z.string().min(1, 'must be a directory path').default(DEFAULT_DASHBOARD_DIR),
  TRIALOG_READY_MAX_LAG_SECONDS: seconds(DEFAULT_READY_MAX_LAG_SECONDS, 1),
  TRIALOG_SHUTDOWN_GRACE_SECONDS: seconds(DEFAULT_SHUTDOWN_GRACE_SECONDS, 0),
  TRIALOG_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  TRIALOG_OTEL: z.enum(TRACING_MODES, { error: `must be one of ${TRACING_MODES.join(', ')}` }).default('off'),
});

export interface TrialogConfig {
  port: number;
  host: string;
  /**
   * SQLite file for the event store (embedded mode; the read models then beside it, see
   * src/read-model-db.ts), or of the read models alone (with EventStoreDB).
   */
  dbPath: string;
  /** When set, events live in EventStoreDB; `dbPath` then holds only read models. */
  eventStoreUrl: string | undefined;
  synchronous: 'FULL' | 'NORMAL';
  /** The largest append the event store is sent (src/store/append-size.ts); undefined: the store's default. */
  maxAppendBytes: number | undefined;
  /** How long a mutation waits for the read models to include its events before answering that they lag. */
  readModelWaitSeconds: number;
  /** How long a starting server keeps trying to reach the event store before it gives up. */
  storeStartSeconds: number;
  /** Bytes of folded aggregate states each repository keeps cached (jobs, experiments). */
  aggregateCacheBytes: number;
  /** Whether the read models are written on a thread of their own (projections/apply-thread.ts). */
  readModelThread: boolean;
  graphql: GraphQLLimits;
  /** Every size and count an input or a read may have (TRIALOG_LIMIT_*, src/limits.ts). */
  limits: Limits;
  /** An admin key accepted alongside the keys in the store (and the end of open mode). */
  adminKey: string | undefined;
  /** Events one live subscriber may have waiting before it is ended (with where to resume). */
  maxSubscriberBacklog: number;
  /** Bytes of events (their data's size) one live subscriber may have waiting before it is ended. */
  maxSubscriberBacklogBytes: number;
  /** Who may reach the server from a browser, beyond its own origin and address (src/http/origin-policy.ts). */
  perimeter: PerimeterConfig;
  /** The built dashboard served at / (src/http/dashboard.ts); missing, / answers 503 saying how to build it. */
  dashboardDir: string;
  /** /ready answers 503 once the read models are more than this many seconds behind the log. */
  readyMaxLagSeconds: number;
  /** On SIGTERM or SIGINT, how long requests in flight have to finish before they are cut off. */
  shutdownGraceSeconds: number;
  /** The least severe log level written (src/observability/logger.ts). */
  logLevel: LogLevel;
  /** OpenTelemetry tracing of GraphQL operations (src/observability/tracing.ts). */
  tracing: TracingMode;
}

export interface PerimeterConfig {
  /** TRIALOG_CORS_ORIGINS: web pages (exact origins) allowed to call the API from a browser. */
  corsOrigins: string[];
  /** TRIALOG_ALLOWED_HOSTS: Host header names the server answers to besides its bound address. */
  allowedHosts: string[];
}

/** How much one GraphQL request may ask for (graphql-armor and the HTTP layer). */
export interface GraphQLLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxDirectives: number;
  maxTokens: number;
  maxBodyBytes: number;
  /** UTF-8 bytes of a document (the query text), refused before it is parsed. */
  maxDocumentBytes: number;
  /** Open TCP connections (WebSockets included), in all and from one client address. */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Time a client has to send its headers, and its whole request with the body. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Open subscriptions on one WebSocket, and over all of one key's WebSockets. */
  maxSubscriptionsPerConnection: number;
  maxSubscriptionsPerKey: number;
  /** Bytes a WebSocket may have queued for a client that is not reading; past it the socket is closed. */
  maxSocketBufferBytes: number;
  /** How often a WebSocket is pinged; an unanswered ping with nothing queued ends the connection. */
  webSocketKeepAliveMs: number;
  introspection: boolean;
  graphiql: boolean;
}

export const defaultGraphQLLimits: GraphQLLimits = {
  maxDepth: 12,
  maxAliases: 100,
  maxCost: 200_000,
  maxDirectives: 50,
  maxTokens: 10_000,
  maxBodyBytes: 20 * 1024 * 1024,
  maxDocumentBytes: 100 * 1024,
  maxConnections: 1000,
  maxConnectionsPerAddress: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxSubscriptionsPerConnection: 100,
  maxSubscriptionsPerKey: 1000,
  maxSocketBufferBytes: 16 * 1024 * 1024,
  webSocketKeepAliveMs: 12_000,
  introspection: true,
  graphiql: true,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrialogConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Config.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    // A secret is named, never echoed.
    const got =
      name === 'TRIALOG_ADMIN_KEY'
        ? ''
        : ` (got ${JSON.stringify(name === 'EVENTSTORE_URL' ? redactUrl(env[name]!) : env[name])})`;
    throw new ConfigError(`invalid configuration: ${name} ${issue.message}${got}`);
  }
  let limits: Limits;
  try {
    limits = limitsFromEnv(env);
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
  const c = parsed.data;
  if (c.EVENTSTORE_URL) {
    const problem = connectionStringProblem(c.EVENTSTORE_URL);
    if (problem)
      throw new ConfigError(`invalid configuration: EVENTSTORE_URL ${problem}: ${redactUrl(c.EVENTSTORE_URL)}`);
  }
  return {
    port: c.PORT,
    host: c.HOST,
    dbPath: c.TRIALOG_DB,
    eventStoreUrl: c.EVENTSTORE_URL,
    synchronous: c.TRIALOG_SYNCHRONOUS,
    maxAppendBytes: c.TRIALOG_MAX_APPEND_BYTES,
    readModelWaitSeconds: c.TRIALOG_READ_MODEL_WAIT_SECONDS,
    storeStartSeconds: c.TRIALOG_STORE_START_SECONDS,
    aggregateCacheBytes: c.TRIALOG_AGGREGATE_CACHE_BYTES,
    readModelThread: c.TRIALOG_READ_MODEL_THREAD === 'on',
    adminKey: c.TRIALOG_ADMIN_KEY,
    maxSubscriberBacklog: c.TRIALOG_MAX_SUBSCRIBER_BACKLOG,
    maxSubscriberBacklogBytes: c.TRIALOG_MAX_SUBSCRIBER_BACKLOG_BYTES,
    perimeter: { corsOrigins: c.TRIALOG_CORS_ORIGINS, allowedHosts: c.TRIALOG_ALLOWED_HOSTS },
    dashboardDir: c.TRIALOG_DASHBOARD_DIR,
    readyMaxLagSeconds: c.TRIALOG_READY_MAX_LAG_SECONDS,
    shutdownGraceSeconds: c.TRIALOG_SHUTDOWN_GRACE_SECONDS,
    logLevel: c.TRIALOG_LOG_LEVEL,
    tracing: c.TRIALOG_OTEL,
    limits,
    graphql: {
      maxDepth: c.TRIALOG_MAX_DEPTH,
      maxAliases: c.TRIALOG_MAX_ALIASES,
      maxCost: c.TRIALOG_MAX_COST,
      maxDirectives: c.TRIALOG_MAX_DIRECTIVES,
      maxTokens: c.TRIALOG_MAX_TOKENS,
      maxBodyBytes: c.TRIALOG_MAX_BODY_BYTES,
      maxDocumentBytes: c.TRIALOG_MAX_DOCUMENT_BYTES,
      maxConnections: c.TRIALOG_MAX_CONNECTIONS,
      maxConnectionsPerAddress: c.TRIALOG_MAX_CONNECTIONS_PER_ADDRESS,
      headersTimeoutMs: c.TRIALOG_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: c.TRIALOG_REQUEST_TIMEOUT_MS,
      maxSubscriptionsPerConnection: c.TRIALOG_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerKey: c.TRIALOG_MAX_SUBSCRIPTIONS_PER_KEY,
      maxSocketBufferBytes: c.TRIALOG_MAX_SOCKET_BUFFER_BYTES,
      webSocketKeepAliveMs: defaultGraphQLLimits.webSocketKeepAliveMs,
      introspection: c.TRIALOG_INTROSPECTION,
      graphiql: c.TRIALOG_GRAPHIQL,
    },
  };
}
