/** `npm start`: read the configuration, open the store, serve the API. */
// First, before graphql-js is loaded by the imports below: see production-mode.ts.
import './production-mode.js';
import { dirname, join } from 'node:path';
import { writeNewAdminKeyFile } from './admin-key-file.js';
import { ConfigError, loadConfig } from './config.js';
import { isLoopbackAddress as isLoopback } from './http/origin-policy.js';
import { createLogger, type Logger } from './observability/logger.js';
import { startedByNpmScript, whenParentGone } from './parent-watch.js';
import { startServer } from './server.js';
import { StoreUnreachableError } from './store/unreachable.js';
import { openTrialog } from './trialog.js';

/**
 * Until the server listens, a start that goes wrong must say so and exit non-zero, so that a
 * supervisor restarting on failure restarts it: a rejection nobody awaited fails the start, and
 * so does an event loop that empties before the server listens (a start waiting on something that
 * can no longer happen would otherwise end the process with status 0 and no word).
 */
let started = false;
/** How long the last shutdown step (closing the store, flushing traces) may take before the process exits anyway. */
const STORE_CLOSE_SECONDS = 10;
/** JSON lines on stdout (see src/observability/logger.ts); at its configured level once the configuration is read. */
let log: Logger = createLogger('info');

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

process.on('unhandledRejection', (reason: unknown) => {
  log.fatal({ err: reason }, `unhandled rejection${started ? '' : ' during start'}: ${describe(reason)}`);
  process.exit(1);
});

function onEmptyEventLoopDuringStart(): void {
  log.fatal('failed to start: the start stopped waiting with nothing left to wait for (a bug); exiting');
  process.exit(1);
}
process.on('beforeExit', onEmptyEventLoopDuringStart);

async function main(): Promise<void> {
  const config = loadConfig();
  log = createLogger(config.logLevel);
  // Only when asked for: with tracing off, no OpenTelemetry module is loaded at all.
  const tracing =
    config.tracing === 'off' ? undefined : (await import('./observability/tracing.js')).startTracing(config.tracing);
  const trialog = await openTrialog({ ...config, logger: log });
  const loopback = isLoopback(config.host);
  if (trialog.access.isOpen) {
    if (loopback) {
      log.warn('no API keys configured: running OPEN (every caller is admin), bound to loopback only');
    } else {
      // Never open to a network: make an admin key and hand it to the owner in a private file.
      const file = join(config.dbPath === ':memory:' ? './data' : dirname(config.dbPath), 'admin.key');
      await writeNewAdminKeyFile(file, async () => {
        const made = await trialog.access.createApiKey(
          { name: 'bootstrap-admin', role: 'admin' },
          { actor: 'system', correlationId: 'bootstrap' },
        );
        return made.key;
      });
      log.warn({ file }, `no API keys configured and ${config.host} is not loopback: wrote an admin key to ${file}`);
    }
  }
  const server = await startServer(trialog, {
    port: config.port,
    host: config.host,
    graphql: config.graphql,
    perimeter: config.perimeter,
    dashboardDir: config.dashboardDir,
    readyMaxLagSeconds: config.readyMaxLagSeconds,
    tracing: tracing?.plugin,
  });
  const store = config.eventStoreUrl ? `EventStoreDB (read models in ${config.dbPath})` : `SQLite ${config.dbPath}`;
  // Tests and supervisors look for `serving <url>` in this line's msg.
  log.info({ url: server.url, tracing: config.tracing }, `serving ${server.url} (GraphiQL in a browser) on ${store}`);
  started = true;
  process.off('beforeExit', onEmptyEventLoopDuringStart);

  // One orderly shutdown (shutdown.ts), however it is asked for; a second signal exits at once.
  let stopping = false;
  const stop = async (why: string) => {
    stopping = true;
    log.info(
      { signal: why },
      `${why}: shutting down (grace ${config.shutdownGraceSeconds} s; a second SIGTERM or SIGINT exits at once)`,
    );
    try {
      await server.shutDown({ graceMs: config.shutdownGraceSeconds * 1000, log: (line) => log.info(line) });
      // Step 5 has a bound of its own: a store that no longer answers (EventStoreDB's client waits for
      // its streams) or a tracing collector that is gone must not keep a stopping server alive.
      setTimeout(() => {
        log.error(`shutdown 5/5: the store did not close within ${STORE_CLOSE_SECONDS} s; exiting without it`);
        process.exit(1);
      }, STORE_CLOSE_SECONDS * 1000).unref();
      await trialog.close();
      await tracing?.shutdown();
      log.info('shutdown 5/5: store closed; exiting');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, `shutdown failed: ${describe(error)}`);
      process.exit(1);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return void stop(signal);
    log.warn({ signal }, `${signal} again: exiting now, without finishing the shutdown`);
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (startedByNpmScript()) {
    whenParentGone(() => {
      if (!stopping) void stop('the npm process that started this server is gone');
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    // Plain, on stderr: the logger's own level is part of what failed to parse, and a person starting it reads this.
    console.error(`trialog: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof StoreUnreachableError) {
    console.error(`trialog: failed to start: ${error.message}`);
    process.exit(1);
  }
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    log.fatal(`cannot listen: ${(error as Error).message}`);
    process.exit(2);
  }
  log.fatal({ err: error }, `failed to start: ${describe(error)}`);
  process.exit(1);
});
